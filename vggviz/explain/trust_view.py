"""The faithfulness measures drawn for a reader: the deletion and insertion curves of a map beside those of
the baselines (Plotly), and the numbers as table rows with their labels in the reader's language."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import text
from ..i18n import _
from .faithfulness import COLUMNS, LABELS, Row, Scores


def curves(scores: dict[str, Scores], method: str) -> go.Figure:
    """Deletion (left) and insertion (right): the class's probability against the fraction of pixels changed,
    for the map ("map", drawn as ``method``) and each baseline (dotted)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=[
        _("Deletion: the most important pixels removed first"),
        _("Insertion: the most important pixels put back first")])
    for col, kind in enumerate(("deletion", "insertion"), start=1):
        for name, s in scores.items():
            curve = getattr(s, kind)
            steps = len(curve) - 1
            label = method if name == "map" else _(COLUMNS[name])
            fig.add_scatter(
                x=[k / steps for k in range(steps + 1)], y=list(curve), row=1, col=col, mode="lines+markers",
                name=text.plotly(label), legendgroup=name, showlegend=col == 1,
                line=dict(dash="solid" if name == "map" else "dot"),
                hovertemplate=f"<b>{text.plotly(label)}</b><br>"
                + _("{label}: {value}", label=_("pixels changed"), value="%{x:.0%}") + "<br>"
                + _("{label}: {value}", label=_("class probability"), value="%{y:.4f}") + "<extra></extra>",
            )
        fig.update_xaxes(title_text=_("fraction of pixels changed (k / S)"), tickformat=".0%", row=1, col=col)
    fig.update_yaxes(title_text=_("probability of the class"), row=1, col=1)
    fig.update_layout(height=380, legend=dict(orientation="h", y=-0.25), margin=dict(t=40))
    return fig


def score_rows(scores: dict[str, Scores], method: str) -> list[dict[str, object]]:
    """One row per measure: its label, then the map's number and each baseline's, under translated headers."""
    columns = {name: method if name == "map" else _(COLUMNS[name]) for name in scores}
    return [{_("measure"): _(label), **{columns[n]: getattr(s, key) for n, s in scores.items()}}
            for key, label in LABELS.items()]


def compare_rows(rows: list[Row], names: dict[str, str]) -> list[dict[str, object]]:
    """The compare-every-method table under translated headers; ``names`` maps a method or baseline to its label."""
    return [{_("method"): names[r.method], _("deletion AUC ↓"): r.deletion_auc,
             _("insertion AUC ↑"): r.insertion_auc, _("Average Drop ↓"): r.average_drop, _("time (s)"): r.seconds}
            for r in rows]
