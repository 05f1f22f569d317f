"""The objective's curve of an optimisation (feature visualisation, class model) as a small Plotly figure.
Titles are made in the current language when the figure is built."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from ..i18n import _

HEIGHT = 220


def objective_curve(curve: Sequence[float]) -> go.Figure:
    """The objective at each step (on that step's transformed image), steps counted from 1."""
    fig = go.Figure(go.Scatter(x=list(range(1, len(curve) + 1)), y=[float(v) for v in curve], mode="lines",
                               hovertemplate="%{x}: %{y:.4g}<extra></extra>"))
    fig.update_layout(height=HEIGHT, margin=dict(l=10, r=10, t=10, b=10), xaxis_title=_("step"),
                      yaxis_title=_("objective"))
    return fig
