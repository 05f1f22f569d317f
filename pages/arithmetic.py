"""The lecture's arithmetic, interactive: stacked 3×3 convs vs one big kernel, the top-down
receptive-field recursion, and the output-size formula."""

import streamlit as st

import ui
from ui import dependent
from vggviz.architecture import lecture
from vggviz.architecture.layers import SPATIAL
from vggviz.i18n import _

st.title(_("The lecture's arithmetic"))

st.header(_("Why stacking three 3×3 convs beats one large kernel (7×7)"))
c1, c2, c3 = st.columns(3)
n = c1.slider(_("Stacked 3×3 convs (n)"), 1, 6, 3, key="stack_n")
channels = c2.number_input(_("Channels C (in = out)"), 1, 4096, 512, step=64, key="stack_channels")
fmap = c3.number_input(_("Feature-map size (H = W)"), 1, 512, 56, key="stack_fmap")
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
st.success(_("The stack saves {saving:.0%} of the parameters and MACs; non-linearities (ReLU): {stacked} vs {single}.",
             saving=cmp.saving, stacked=cmp.stacked_nonlinearities, single=cmp.single_nonlinearities))

config = ui.config_selector()
size = ui.input_size_selector()
rows = ui.cached_layer_table(config.name, size)
spatial = [r.name for r in rows if r.type in SPATIAL and r.kernel is not None]

st.header(_("Receptive field, top-down"))
st.latex(r"F(i) = (F(i+1) - 1) \times \mathrm{Stride} + \mathrm{Ksize}, \quad F(\mathrm{top}) = 1")
st.caption(_("F(i): the receptive field at layer i, in pixels of layer i's input; Stride and Ksize: layer i's "
             "stride and kernel size. Start from one unit (F = 1) and go down to the input."))
left, right = st.columns(2)
with left:
    st.markdown(_("**The slides' examples**"))
    for title, chain in lecture.LECTURE_EXAMPLES.items():
        steps = lecture.topdown(chain)
        path = " → ".join(["1"] + [str(s.after) for s in steps])
        st.markdown(f"{_(title)}: **{path}**")
        st.dataframe([{"layer": s.layer, "formula": s.formula()} for s in steps], hide_index=True, column_config={
            "layer": st.column_config.TextColumn(_("Layer")),
            "formula": st.column_config.TextColumn("F(i) = (F(i+1) − 1) × stride + ksize"),
        })
with right:
    layer = dependent.widget(st.selectbox, _("A layer of {config}", config=config.name), spatial,
                             key="topdown_layer", default="pool5" if "pool5" in spatial else spatial[0],
                             depends_on=config.name)
    steps = lecture.topdown_for(rows, layer)
    st.markdown(_("One unit of **{layer}** sees **{f}×{f}** input pixels: {path}", layer=layer, f=steps[-1].after,
                  path=" → ".join(["1"] + [str(s.after) for s in steps])))
    st.dataframe([{"layer": s.layer, "kernel": s.kernel, "stride": s.stride, "F(i)": s.formula()} for s in steps],
                 hide_index=True, height=min(38 + 35 * len(steps), 500), column_config={
                     "layer": st.column_config.TextColumn(_("Layer")),
                     "kernel": st.column_config.NumberColumn(_("Kernel size")),
                     "stride": st.column_config.NumberColumn(_("Stride")),
                 })

st.header(_("Output size"))
st.latex(r"out = \frac{in - F + 2P}{S} + 1")
st.caption(_("in, out: the feature map's height (or width) before and after the layer; F: kernel size; "
             "P: padding; S: stride."))
row = next(r for r in rows if r.name == layer)
st.markdown(_("**{layer}** ({type}, F = {f}, S = {s}, P = {p}), input {h}×{w}:", layer=layer, type=row.type,
              f=row.kernel, s=row.stride, p=row.padding, h=row.in_shape[1], w=row.in_shape[2]))
st.code(_("height: {height}\nwidth:  {width}", height=lecture.output_size_formula(row, 1),
          width=lecture.output_size_formula(row, 2)), language=None)
