"""Projector mode: type and charts larger for the back of the room. The scale, and a chart made larger by it."""

from __future__ import annotations

from collections.abc import Mapping

import plotly.graph_objects as go

SCALE = 1.375  # 16 px type becomes 22 px: a slide's body text, read from the back of a classroom
PLOTLY_FONT, PLOTLY_HEIGHT = 12, 450  # Plotly's own defaults, where a figure sets neither


def root_font_px(base: float = 16) -> float:
    """The page's root font size in projector mode, from the theme's (Streamlit's default: 16 px)."""
    return round(base * SCALE, 2)


def _scaled_fonts(node: object, scale: float) -> object:
    """``node`` (a figure's layout as plain data) with the size of every font in it (``font``, ``tickfont``,
    a title's ``font``…) multiplied by ``scale``."""
    if isinstance(node, Mapping):
        return {k: _font(v, scale) if k.endswith("font") else _scaled_fonts(v, scale) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return [_scaled_fonts(v, scale) for v in node]
    return node


def _font(font: object, scale: float) -> object:
    if isinstance(font, Mapping) and isinstance(font.get("size"), (int, float)):
        return {**font, "size": round(font["size"] * scale, 1)}
    return font


def enlarged(fig: go.Figure, scale: float = SCALE) -> go.Figure:
    """A copy of ``fig`` (a cached figure is shared: it is never changed) with every font of its layout, and
    its height, ``scale`` times as large."""
    own = {k: v for k, v in fig.layout.to_plotly_json().items() if k != "template"}  # the theme's stays the theme's
    layout = _scaled_fonts(own, scale)
    layout["font"] = {**layout.get("font", {}), "size": round((fig.layout.font.size or PLOTLY_FONT) * scale, 1)}
    layout["height"] = round((fig.layout.height or PLOTLY_HEIGHT) * scale)
    out = go.Figure(fig)
    out.update_layout(layout, overwrite=True)
    return out
