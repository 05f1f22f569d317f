"""Projector mode's scale (``vggviz.projector``): a chart made larger is a copy whose fonts and height grow by the
scale, the cached original untouched; the page's root type grows from the theme's base."""

from __future__ import annotations

import plotly.graph_objects as go

from vggviz import projector


def test_a_chart_grows_by_the_scale_and_the_original_is_untouched():
    fig = go.Figure(go.Bar(x=[1, 2], y=[3, 4]))
    fig.update_layout(height=400, title=dict(text="t", font=dict(size=20)), xaxis=dict(tickfont=dict(size=10)))
    before = fig.to_plotly_json()
    big = projector.enlarged(fig, scale=1.5)
    assert fig.to_plotly_json() == before
    assert big.layout.height == 600
    assert big.layout.title.font.size == 30 and big.layout.xaxis.tickfont.size == 15
    assert big.layout.font.size == 18  # Plotly's default 12, which the figure did not set
    assert big.data[0].y == (3, 4)


def test_a_chart_without_a_height_grows_from_plotlys_default():
    assert projector.enlarged(go.Figure(), scale=2).layout.height == 900


def test_the_root_type_grows_from_the_themes_base():
    assert projector.root_font_px() == 16 * projector.SCALE > 16
    assert projector.root_font_px(20) == 20 * projector.SCALE
