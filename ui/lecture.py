"""The lecture's live widgets, drawn by their own pages and by the lesson: the regenerated Table 1, the
per-configuration totals, 3×3 stacks against one big kernel, the top-down receptive-field recursion,
the output-size formula, a unit's receptive field on a photo and the layer table.

Each takes a ``key`` prefix so that the same widget can live on two pages with state of its own.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from ui import dependent, present
from vggviz.architecture import charts, lecture, tables
from vggviz.architecture.layers import SPATIAL, Layer
from vggviz.i18n import _
from vggviz.photo import images

def _columns(columns: dict[str, str], **extra: object) -> dict:
    """``column_config`` giving each key its header in the current language; counts with thousands separators."""
    config = {key: (st.column_config.NumberColumn(_(label), format="localized") if key in ("params", "MACs")
                    else st.column_config.Column(_(label))) for key, label in columns.items()}
    config.update(extra)
    return config


def table1(key: str = "table1") -> None:
    """The paper's Table 1, regenerated from the configuration data."""
    st.caption(_("`conv3-64`: 3×3 conv, 64 channels; `conv1-256`: 1×1 conv; LRN: local response normalisation."))
    st.plotly_chart(present.chart(charts.table1_figure()), key=key)


def comparison(size: tuple[int, int]) -> None:
    """Every configuration's totals beside the paper's Tables 2 and 3."""
    st.dataframe(tables.comparison(size), hide_index=True, width="stretch", placeholder="",
                 column_config=_columns(tables.COMPARISON_COLUMNS))
    st.caption(_("Parameters match the paper's Table 2 after rounding; errors are the paper's Table 3 "
                 "(single scale, train/test 256/256). torchvision's *_bn variants were not in the paper."))


def stack_comparison(key: str = "stack", n: int = 3) -> None:
    """n stacked 3×3 convs against one (2n+1)×(2n+1) conv: receptive field, parameters, MACs."""
    c1, c2, c3 = st.columns(3)
    n = c1.slider(_("Stacked 3×3 convs (n)"), 1, 6, n, key=f"{key}_n")
    channels = c2.number_input(_("Channels C (in = out)"), 1, 4096, 512, step=64, key=f"{key}_channels")
    fmap = c3.number_input(_("Feature-map size (H = W)"), 1, 512, 56, key=f"{key}_fmap")
    cmp = lecture.stack_vs_single(n, int(channels), (int(fmap), int(fmap)))
    k = cmp.rf
    st.markdown(_(
        "**{n} × conv3** and **one conv{k}** both see a **{k}×{k}** receptive field. "
        "Parameters (biases ignored): {n}·3·3·C² = **{stacked}C²** vs {k}·{k}·C² = **{single}C²**.",
        n=n, k=k, stacked=9 * n, single=k * k,
    ))
    table = [
        {"": _("{n} stacked 3×3 convs", n=n), "rf": f"{k}×{k}", "params": cmp.stacked_params,
         "macs": cmp.stacked_macs, "relus": cmp.stacked_nonlinearities},
        {"": _("one {k}×{k} conv", k=k), "rf": f"{k}×{k}", "params": cmp.single_params,
         "macs": cmp.single_macs, "relus": cmp.single_nonlinearities},
    ]
    st.dataframe(table, hide_index=True, column_config={
        "rf": st.column_config.TextColumn(_("Receptive field")),
        "params": st.column_config.NumberColumn(_("Parameters"), format="localized"),
        "macs": st.column_config.NumberColumn(_("Multiply-accumulates (MACs)"), format="localized"),
        "relus": st.column_config.NumberColumn(_("Non-linearities (ReLU)")),
    })
    st.success(_("The stack saves {saving:.0%} of the parameters and MACs; non-linearities (ReLU): {stacked} vs "
                 "{single}.", saving=cmp.saving, stacked=cmp.stacked_nonlinearities, single=cmp.single_nonlinearities))


def _configuration(rows: list[Layer]) -> tuple[str, ...]:
    """What a layer choice depends on: the configuration's layers (not the input size, which only changes
    whether an uneven average pool has a single receptive field)."""
    return tuple(r.name for r in rows if r.type in SPATIAL)


def layer_picker(rows: list[Layer], label: str, key: str, default: str) -> str:
    """A conv or pool layer (with a single receptive field) of the table; the default follows the configuration."""
    names = [r.name for r in rows if r.type in SPATIAL and r.kernel is not None]
    return dependent.widget(st.selectbox, label, names, key=key, default=default if default in names else names[0],
                            depends_on=_configuration(rows))


def topdown(rows: list[Layer], config: str, key: str = "topdown_layer") -> str:
    """The slides' worked examples beside the recursion for one layer of the table; returns that layer."""
    st.latex(r"F(i) = (F(i+1) - 1) \times \mathrm{Stride} + \mathrm{Ksize}, \quad F(\mathrm{top}) = 1")
    st.caption(_("F(i): the receptive field at layer i, in pixels of layer i's input; Stride and Ksize: layer i's "
                 "stride and kernel size. Start from one unit (F = 1) and go down to the input."))
    left, right = st.columns(2)
    with left:
        st.markdown(_("**The slides' examples**"))
        for title, chain in lecture.LECTURE_EXAMPLES.items():
            steps = lecture.topdown(chain)
            path = " → ".join(["1"] + [str(s.after) for s in steps])
            st.markdown(_("{label}: {value}", label=_(title), value=f"**{path}**"))
            st.dataframe([{"layer": s.layer, "formula": s.formula()} for s in steps], hide_index=True,
                         column_config={"layer": st.column_config.TextColumn(_("Layer")),
                                        "formula": st.column_config.TextColumn("F(i) = (F(i+1) − 1) × stride + ksize")})
    with right:
        layer = layer_picker(rows, _("A layer of {config}", config=config), key, "pool5")
        steps = lecture.topdown_for(rows, layer)
        st.markdown(_("One unit of **{layer}** sees **{f}×{f}** input pixels: {path}", layer=layer,
                      f=steps[-1].after, path=" → ".join(["1"] + [str(s.after) for s in steps])))
        st.dataframe([{"layer": s.layer, "kernel": s.kernel, "stride": s.stride, "F(i)": s.formula()} for s in steps],
                     hide_index=True, height=min(38 + 35 * len(steps), 500), column_config={
                         "layer": st.column_config.TextColumn(_("Layer")),
                         "kernel": st.column_config.NumberColumn(_("Kernel size")),
                         "stride": st.column_config.NumberColumn(_("Stride")),
                     })
    return layer


def output_size(rows: list[Layer], layer: str) -> None:
    """out = (in − F + 2P)/S + 1 with the numbers of ``layer``."""
    st.latex(r"out = \frac{in - F + 2P}{S} + 1")
    st.caption(_("in, out: the feature map's height (or width) before and after the layer; F: kernel size; "
                 "P: padding; S: stride."))
    row = next(r for r in rows if r.name == layer)
    st.markdown(_("**{layer}** ({type}, F = {f}, S = {s}, P = {p}), input {h}×{w}:", layer=layer, type=row.type,
                  f=row.kernel, s=row.stride, p=row.padding, h=row.in_shape[1], w=row.in_shape[2]))
    st.code(_("height: {height}\nwidth:  {width}", height=lecture.output_size_formula(row, 1),
              width=lecture.output_size_formula(row, 2)), language=None)


def unit_box(rows: list[Layer], size: tuple[int, int], key: str = "rf") -> tuple[Layer, tuple[int, int], tuple | None]:
    """One unit of a layer and the box of input pixels it sees, drawn on a photo; returns the layer, the unit and
    the photo picked (``ui.photo_picker``'s answer)."""
    choices = [r for r in rows if r.type in SPATIAL and r.rf is not None]
    left, right = st.columns([1, 2])
    with left:
        names = [r.name for r in choices]
        layer = dependent.widget(st.selectbox, _("Layer"), names, key=f"{key}_layer",
                                 default="conv3_1" if "conv3_1" in names else names[0],
                                 depends_on=_configuration(rows))
        row = next(r for r in choices if r.name == layer)
        _channels, out_h, out_w = row.out_shape
        # A new layer starts at its centre unit, and so does a new input size unless the user moved the unit.
        unit_row = dependent.widget(st.slider, _("Unit row"), 0, out_h - 1, key=f"{key}_row", default=out_h // 2,
                                    depends_on=layer)
        unit_col = dependent.widget(st.slider, _("Unit column"), 0, out_w - 1, key=f"{key}_col", default=out_w // 2,
                                    depends_on=layer)
        picked = ui.photo_picker()
        photo = picked[0] if picked else None
    full, clipped = lecture.unit_box(row, unit_row, unit_col, size)
    with left:
        st.metric(_("Receptive field r"), f"{row.rf}×{row.rf} px")
        where = _("effective stride (jump) {jump} px · start {start} · unit centre at ({y}, {x})  \n"
                  "box rows {top}…{bottom}, columns {left}…{right}",
                  jump=row.jump, start=row.start, y=row.start + unit_row * row.jump, x=row.start + unit_col * row.jump,
                  top=full.top, bottom=full.bottom, left=full.left, right=full.right)
        if full != clipped:
            where += "  \n" + _("inside the image: {h}×{w} px (clipped at the border, where the padding is)",
                                h=clipped.size[0], w=clipped.size[1])
        st.markdown(where)
        st.caption(lecture.rf_formula(row))
    with right:
        if photo is None:
            st.info(_("Upload a photo, or pick a sample."))
        else:
            resized = photo.resize((size[1], size[0]))
            st.image(images.draw_receptive_field(resized, full, clipped),
                     caption=_("The photo resized to the {h}×{w} input; red: the part of the box inside the image, "
                               "dashed yellow: the whole receptive field (grey: padding).", h=size[0], w=size[1]))
    return row, (unit_row, unit_col), picked


_WHOLE = ("kernel", "stride", "padding", "r", "jump")  # whole numbers of the layer table, with gaps


def layer_table(rows: list[Layer], key: str = "arch_all_rows") -> None:
    """The layer table, conv/pool/fc rows or every module."""
    every = st.toggle(_("Show ReLU, BN, LRN and dropout rows"), value=False, key=key)
    shown = [r for r in tables.display_rows(rows) if every or r["type"] not in ("relu", "bn", "lrn", "dropout")]
    # fc rows and the totals row have no kernel, stride, ... : nullable integers keep the column numeric,
    # and the placeholder shows their gaps as empty cells (Streamlit's default writes "None").
    frame = pd.DataFrame(shown).astype({k: "Int64" for k in _WHOLE})
    st.dataframe(
        frame, hide_index=True, width="stretch", height=min(38 + 35 * len(shown), 720), placeholder="",
        column_config=_columns(
            tables.COLUMNS,
            r=st.column_config.NumberColumn(_(tables.COLUMNS["r"]),
                                            help=_("receptive field: input pixels one unit sees, per side")),
            jump=st.column_config.NumberColumn(_(tables.COLUMNS["jump"]),
                                               help=_("effective stride: input pixels between neighbouring units")),
            start=st.column_config.NumberColumn(_(tables.COLUMNS["start"]),
                                                help=_("centre of unit 0's receptive field (pixel i centred at i)")),
        ),
    )
