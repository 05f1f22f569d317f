"""Plotly figures of the layer table. Hover texts carry the lecture's formulas with the numbers filled in.
Torch-free. Titles, axes, legends and hover texts are made in the current language when a figure is built
(a cache of figures keys on the language)."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from . import configs
from .. import text
from ..i18n import _
from .layers import SPATIAL, Layer, layer_table
from .lecture import output_size_formula, rf_formula

_HEIGHT = 420


def _spatial(rows: list[Layer]) -> list[Layer]:
    return [r for r in rows if r.type in SPATIAL]


def feature_map_chart(rows: list[Layer]) -> go.Figure:
    """Feature-map height × width (bars) and channels (line) after each conv / pool layer."""
    rows = _spatial(rows)
    names = [r.name for r in rows]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_bar(
        x=names, y=[r.out_shape[1] * r.out_shape[2] for r in rows], name="H × W",
        customdata=[[f"{r.out_shape[1]}×{r.out_shape[2]}", output_size_formula(r, 1), output_size_formula(r, 2)] for r in rows],
        hovertemplate=_("<b>%{x}</b>: %{customdata[0]}<br>height: %{customdata[1]}<br>width: %{customdata[2]}")
        + "<extra></extra>",
    )
    fig.add_scatter(
        x=names, y=[r.out_shape[0] for r in rows], name=_("channels"), mode="lines+markers",
        hovertemplate=_("<b>%{x}</b>: %{y} channels") + "<extra></extra>", secondary_y=True,
    )
    fig.update_yaxes(title_text=_("H × W (units per map)"), type="log", secondary_y=False)
    fig.update_yaxes(title_text=_("channels"), secondary_y=True)
    fig.update_layout(title=_("Feature-map size per layer"), height=_HEIGHT, legend=dict(orientation="h", y=1.1))
    return fig


def receptive_field_chart(rows: list[Layer]) -> go.Figure:
    """Receptive field r and jump after each conv / pool layer."""
    rows = [r for r in _spatial(rows) if r.rf is not None]
    names = [r.name for r in rows]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_scatter(
        x=names, y=[r.rf for r in rows], name=_("receptive field r"), mode="lines+markers",
        customdata=[rf_formula(r) for r in rows],
        hovertemplate="<b>%{x}</b>: r = %{y}<br>%{customdata}<extra></extra>",
    )
    fig.add_scatter(
        x=names, y=[r.jump for r in rows], name=_("jump"), mode="lines+markers", line=dict(dash="dot"),
        customdata=[f"jump = {r.jump_prev} × {r.stride} = {r.jump}" for r in rows],
        hovertemplate="<b>%{x}</b>: %{customdata}<extra></extra>", secondary_y=True,
    )
    fig.update_yaxes(title_text=_("r (input pixels)"), secondary_y=False)
    fig.update_yaxes(title_text=_("jump (input pixels)"), secondary_y=True)
    fig.update_layout(title=_("Receptive-field growth"), height=_HEIGHT, legend=dict(orientation="h", y=1.1))
    return fig


def cost_chart(rows: list[Layer], log: bool = False) -> go.Figure:
    """Parameters and multiply-accumulates of every conv and fc layer."""
    rows = [r for r in rows if r.type in ("conv", "fc", "bn") and r.params]
    names = [r.name for r in rows]
    fig = go.Figure()
    fig.add_bar(x=names, y=[r.params for r in rows], name=_("parameters"),
                hovertemplate=_("<b>%{x}</b>: %{y:,} parameters") + "<extra></extra>")
    fig.add_bar(x=names, y=[r.macs for r in rows], name=_("MACs"),
                hovertemplate=_("<b>%{x}</b>: %{y:,} MACs") + "<extra></extra>")
    fig.update_yaxes(type="log" if log else "linear", title_text=_("count"))
    fig.update_layout(title=_("Parameters and MACs per layer"), barmode="group", height=_HEIGHT,
                      legend=dict(orientation="h", y=1.1))
    return fig


def receptive_field_overlay(input_size=configs.DEFAULT_INPUT, names: tuple[str, ...] | None = None) -> go.Figure:
    """Receptive field against depth (conv / pool layers passed) for several configurations."""
    fig = go.Figure()
    for name in names or tuple(configs.TABLE1):
        rows = [r for r in _spatial(layer_table(name, input_size)) if r.rf is not None and r.type != "avgpool"]
        fig.add_scatter(
            x=list(range(1, len(rows) + 1)), y=[r.rf for r in rows], name=configs.resolve(name).name,
            mode="lines+markers", customdata=[[r.name, rf_formula(r)] for r in rows],
            hovertemplate="<b>%{customdata[0]}</b>: r = %{y}<br>%{customdata[1]}<extra>" + name + "</extra>",
        )
    fig.update_xaxes(title_text=_("conv / pool layers from the input"))
    fig.update_yaxes(title_text=_("receptive field r (pixels)"))
    fig.update_layout(title=_("Receptive-field growth of every configuration"), height=_HEIGHT)
    return fig


def table1_figure() -> go.Figure:
    """The paper's Table 1 as a Plotly table, regenerated from the configuration data."""
    from .tables import table1

    rows = table1(sep="<br>")
    names = list(rows[0])
    maxpool = _("maxpool")
    fig = go.Figure(go.Table(
        header=dict(values=[f"<b>{n}</b>" for n in names], align="center", fill_color="#dbe6f3"),
        cells=dict(values=[[r[n] for r in rows] for n in names], align="center", height=24,
                   fill_color=[["#f2f2f2" if r[names[0]] == maxpool else "#ffffff" for r in rows]]),
    ))
    lines = sum(max(r[n].count("<br>") + 1 for n in names) for r in rows)
    fig.update_layout(height=60 + 24 * lines, margin=dict(l=0, r=0, t=10, b=0))
    return fig


def topk_chart(top: list[dict], title: str | None = None) -> go.Figure:
    """Horizontal bars of the top-k probabilities, best on top; ``title`` defaults to "Top predictions".
    Built in one constructor call: Predict draws one for every upload, and Plotly's ``update_*`` methods
    took 5 ms where this takes 1."""
    top = list(reversed(top))
    bars = go.Bar(x=[t["prob"] for t in top], y=[f"{text.plotly(t['label'])} ({t['index']})" for t in top],
                  orientation="h", text=[f"{t['prob']:.1%}" for t in top], textposition="auto",
                  hovertemplate="%{y}: %{x:.2%}<extra></extra>")
    return go.Figure(bars, layout={
        "title": {"text": _("Top predictions") if title is None else title},
        "xaxis": {"range": [0, 1], "tickformat": ".0%", "title": {"text": _("probability")}},
        "height": 120 + 36 * len(top), "margin": {"l": 10, "r": 10, "t": 50, "b": 40}})


def weight_histogram(values, name: str, bins: int = 120) -> go.Figure:
    """Histogram of a layer's weights, binned here so that only ``bins`` bars travel to the browser."""
    import numpy as np

    counts, edges = np.histogram(values, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    fig = go.Figure(go.Bar(x=centres, y=counts, width=edges[1] - edges[0],
                           hovertemplate="%{x:.4g}: %{y}<extra></extra>"))
    fig.update_layout(title=_("Weights of {name}", name=text.plotly(name)), height=340, bargap=0,
                      xaxis_title=_("weight"), yaxis_title=_("count"))
    return fig
