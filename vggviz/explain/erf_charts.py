"""Plotly figures of the effective receptive field and of one unit's computation. Every title, axis and
hover text is translated when the figure is made (callers that cache figures key them on the language).

Plotly's image and heat-map traces centre pixel i on coordinate i, so pixel i spans [i − 0.5, i + 0.5]:
the same convention as the ERF's fractional square sides, which are drawn exactly."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..architecture.lecture import Box
from ..i18n import _
from .erf import ERF, StackExperiment, mass_sides
from .unit import ConvUnit

_HEIGHT = 420
# The ERF over the photo: transparent where it is zero, so the photo shows through.
HEAT = [[0.0, "rgba(255,255,0,0)"], [0.15, "rgba(255,220,0,0.35)"], [0.5, "rgba(255,120,0,0.7)"],
        [1.0, "rgba(220,0,0,0.9)"]]
SQUARE_COLOURS = {0.5: "#00e5ff", 0.9: "#7c4dff"}
BOX_COLOUR = "#ffd600"


def _rect(box: Box) -> dict:
    return dict(x0=box.left - 0.5, x1=box.right + 0.5, y0=box.top - 0.5, y1=box.bottom + 0.5)


def _square(centre: tuple[float, float], side: float) -> dict:
    cy, cx = centre
    return dict(x0=cx - side / 2, x1=cx + side / 2, y0=cy - side / 2, y1=cy + side / 2)


def erf_figure(erf: ERF, photo: np.ndarray | None = None) -> go.Figure:
    """The ERF as a heat map over the photo (``photo``: (H, W, 3) uint8 at the same size, or None for noise
    inputs), inside the theoretical receptive field (dashed) with the squares holding 50 % and 90 %."""
    fig = go.Figure()
    if photo is not None:
        fig.add_image(z=photo, hoverinfo="skip")
    fig.add_heatmap(
        z=erf.map, colorscale=HEAT if photo is not None else "Viridis", zmin=0,
        colorbar=dict(title=dict(text=_("|∂y/∂x|"))),
        hovertemplate=_("row %{y}, column %{x}: %{z:.3g}") + "<extra></extra>",
    )
    fig.add_shape(type="rect", **_rect(erf.box), line=dict(color=BOX_COLOUR, width=2, dash="dash"),
                  name=_("theoretical receptive field, {r}×{r}", r=erf.rf), showlegend=True)
    for fraction, colour in SQUARE_COLOURS.items():
        side = erf.mass_sides.get(fraction)
        if side is not None:
            fig.add_shape(type="rect", **_square(erf.centre, side), line=dict(color=colour, width=2),
                          name=_("{p:.0%} of the ERF: {side:.1f} px", p=fraction, side=side), showlegend=True)
    # Zoomed on the field (twice its size, at least 48 px) within the photo and the box; double-click: all.
    (h, w), (cy, cx), half, box = erf.map.shape, erf.centre, max(erf.rf, 24), erf.box
    left, right = max(cx - half, min(-0.5, box.left - 1.5)), min(cx + half, max(w - 0.5, box.right + 1.5))
    top, bottom = max(cy - half, min(-0.5, box.top - 1.5)), min(cy + half, max(h - 0.5, box.bottom + 1.5))
    fig.update_xaxes(range=[left, right], showgrid=False, constrain="domain")
    fig.update_yaxes(range=[bottom, top], showgrid=False, scaleanchor="x")
    fig.update_layout(
        title=_("Effective receptive field of {layer}, unit ({row}, {col})", layer=erf.layer, row=erf.unit[0],
                col=erf.unit[1]),
        height=560, legend=dict(orientation="h", y=-0.08), margin=dict(l=10, r=10, t=50, b=10),
    )
    return fig


def layers_chart(erfs: list[ERF]) -> go.Figure:
    """Theoretical r against the sides of the squares holding 50 % and 90 % of the ERF, layer by layer:
    r grows linearly with depth, the ERF more slowly (about like √n, Luo et al.)."""
    names = [e.layer for e in erfs]
    fig = go.Figure()
    fig.add_scatter(x=names, y=[e.rf for e in erfs], name=_("theoretical r"), mode="lines+markers",
                    hovertemplate=_("<b>%{x}</b>: r = %{y} px") + "<extra></extra>")
    for fraction, dash in ((0.5, "dot"), (0.9, "dash")):
        fig.add_scatter(
            x=names, y=[e.mass_sides.get(fraction) for e in erfs], mode="lines+markers", line=dict(dash=dash),
            name=_("ERF, {p:.0%} of the mass", p=fraction),
            hovertemplate="<b>%{x}</b>: " + _("{p:.0%} of the mass within {side} px", p=fraction, side="%{y:.1f}")
            + "<extra></extra>",
        )
    fig.update_yaxes(title_text=_("side of the square (input pixels)"), rangemode="tozero")
    fig.update_xaxes(title_text=_("conv layer (after its ReLU)"))
    fig.update_layout(title=_("Theoretical and effective receptive field, every conv layer"), height=_HEIGHT,
                      legend=dict(orientation="h", y=1.12))
    return fig


def profile_chart(erf: ERF) -> go.Figure:
    """The ERF along the row and the column through the unit, scaled to its peak, with the theoretical box."""
    fig = go.Figure()
    peak = float(erf.map.max()) or 1.0
    for key, label in (("horizontal", _("along the row")), ("vertical", _("along the column"))):
        offsets, values = erf.profiles()[key]
        fig.add_scatter(x=offsets, y=values / peak, name=label, mode="lines",
                        hovertemplate=_("offset %{x} px: %{y:.2f} of the peak") + "<extra></extra>")
    half = erf.rf / 2
    fig.add_vrect(x0=-half, x1=half, fillcolor=BOX_COLOUR, opacity=0.15, line_width=0,
                  annotation_text=_("theoretical r = {r}", r=erf.rf), annotation_position="top left")
    side = erf.mass_sides.get(0.5)
    if side is not None:
        fig.add_vrect(x0=-side / 2, x1=side / 2, fillcolor=SQUARE_COLOURS[0.5], opacity=0.2, line_width=0,
                      annotation_text=_("50 %: {side:.1f} px", side=side), annotation_position="bottom right")
    fig.update_xaxes(title_text=_("offset from the receptive field's centre (input pixels)"),
                     range=[-max(erf.rf, 16), max(erf.rf, 16)])
    fig.update_yaxes(title_text=_("|∂y/∂x|, scaled to the peak"))
    fig.update_layout(title=_("Cross-section through the unit"), height=_HEIGHT, legend=dict(orientation="h", y=1.12))
    return fig


def stack_chart(exp: StackExperiment) -> go.Figure:
    """The slides' experiment: both mean ERFs as heat maps, and their profiles through the centre, each
    profile scaled to sum 1 so that the two spreads compare."""
    n, k = exp.comparison.n, exp.comparison.rf
    stacked_label = _("{n} stacked 3×3 convs", n=n)
    single_label = _("one {k}×{k} conv", k=k)
    fig = make_subplots(rows=1, cols=3, column_widths=[0.28, 0.28, 0.44], horizontal_spacing=0.06,
                        subplot_titles=(stacked_label, single_label, _("profile through the centre")))
    c = exp.size // 2
    offsets = np.arange(exp.size) - c
    for col, (label, m) in enumerate(((stacked_label, exp.stacked), (single_label, exp.single)), start=1):
        fig.add_heatmap(z=m, x=offsets, y=offsets, colorscale="Viridis", showscale=False, row=1, col=col,
                        hovertemplate=_("offset (%{y}, %{x}): %{z:.3g}") + "<extra></extra>")
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{col}", row=1, col=col)
        side = mass_sides(m, exp.centre)[0.5]
        fig.add_shape(type="rect", x0=-side / 2, x1=side / 2, y0=-side / 2, y1=side / 2,
                      line=dict(color=SQUARE_COLOURS[0.5], width=2), row=1, col=col)
        profile = m[c]
        fig.add_scatter(x=offsets, y=profile / profile.sum(), name=label, mode="lines+markers", row=1, col=3,
                        hovertemplate=_("offset %{x}: %{y:.3f}") + "<extra></extra>")
    fig.update_xaxes(title_text=_("offset (pixels)"))
    fig.update_layout(height=360, legend=dict(orientation="h", y=-0.25), margin=dict(t=60))
    return fig


def contributions_chart(unit: ConvUnit, top: int = 15) -> go.Figure:
    """Each input channel's contribution to the unit, the ``top`` largest by size, then the rest summed; each
    bar carries its input channel (−1 for the rest) as customdata, for selection."""
    order = unit.order()
    shown, rest = order[:top], order[top:]
    labels = [_("ch {c}", c=int(i)) for i in shown]
    values = [float(unit.contributions[i]) for i in shown]
    channels = [int(i) for i in shown]
    if len(rest):
        labels.append(_("the other {n}", n=len(rest)))
        values.append(float(unit.contributions[rest].sum()))
        channels.append(-1)
    fig = go.Figure(go.Bar(
        x=labels, y=values, customdata=channels, marker_color=["#2e7d32" if v >= 0 else "#c62828" for v in values],
        hovertemplate="<b>%{x}</b>: %{y:.4g}<extra></extra>",
    ))
    fig.update_yaxes(title_text=_("contribution to the pre-activation"))
    fig.update_layout(
        title=_("bias {bias:.4g} + Σ {n} contributions = {pre:.4g}", bias=unit.bias, n=len(order), pre=unit.pre),
        height=360, clickmode="event+select", margin=dict(t=50),
    )
    return fig


def window_figure(channel_map: np.ndarray, window: Box, title: str) -> go.Figure:
    """One input channel's map with the kernel's window marked (dashed where it covers the zero padding)."""
    h, w = channel_map.shape
    inside = window.top >= 0 and window.left >= 0 and window.bottom < h and window.right < w
    fig = go.Figure(go.Heatmap(z=channel_map, colorscale="Viridis",
                               hovertemplate=_("row %{y}, column %{x}: %{z:.3g}") + "<extra></extra>"))
    fig.add_shape(type="rect", **_rect(window), line=dict(color="#ff1744", width=2, dash="solid" if inside else "dash"))
    fig.update_xaxes(range=[min(-0.5, window.left - 1), max(w - 0.5, window.right + 1)], constrain="domain")
    fig.update_yaxes(range=[max(h - 0.5, window.bottom + 1), min(-0.5, window.top - 1)], scaleanchor="x")
    fig.update_layout(title=title, height=380, margin=dict(t=50, l=10, r=10, b=10))
    return fig
