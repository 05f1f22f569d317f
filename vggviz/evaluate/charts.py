"""The confusion matrix as a Plotly heat map: photo counts, or each row as shares of its true class."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .. import text
from ..i18n import _
from .metrics import row_normalised

ANNOTATE_UP_TO = 25  # classes; with more, numbers in the cells would be unreadable (hover still has them)


def confusion_chart(confusion: np.ndarray, classes: list[str], normalised: bool = False) -> go.Figure:
    """Rows: true class, top to bottom; columns: predicted class; in the order of ``classes``."""
    names = [text.plotly(c) for c in classes]
    z = row_normalised(confusion) if normalised else confusion
    cell = "%{z:.0%}" if normalised else "%{z}"
    fig = go.Figure(go.Heatmap(
        z=z, x=names, y=names, customdata=confusion, colorscale="Blues", zmin=0,
        zmax=1 if normalised else max(1, int(confusion.max())),
        texttemplate=cell if len(classes) <= ANNOTATE_UP_TO else None,
        hovertemplate=_("true class: %{y}<br>predicted: %{x}<br>photos: %{customdata}") + "<extra></extra>",
        colorbar=dict(tickformat=".0%" if normalised else "d"),
    ))
    fig.update_yaxes(title_text=_("True class (folder)"), autorange="reversed", type="category")
    fig.update_xaxes(title_text=_("Class the model predicted"), type="category")
    title = _("Confusion matrix, each row as shares of its true class") if normalised else _("Confusion matrix, photos")
    side = max(360, min(900, 60 + 28 * len(classes)))
    fig.update_layout(title=title, height=side)
    return fig
