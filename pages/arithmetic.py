"""The lecture's arithmetic, interactive: stacked 3×3 convs vs one big kernel, the top-down
receptive-field recursion, and the output-size formula."""

import streamlit as st

import ui
from vggviz.architecture import lecture
from vggviz.architecture.layers import SPATIAL

st.title("The lecture's arithmetic")

st.header("Why three 3×3 convs beat one 7×7")
c1, c2, c3 = st.columns(3)
n = c1.slider("Stacked 3×3 convs (n)", 1, 6, 3)
channels = c2.number_input("Channels C (in = out)", 1, 4096, 512, step=64)
fmap = c3.number_input("Feature-map size (H = W)", 1, 512, 56)
cmp = lecture.stack_vs_single(n, int(channels), (int(fmap), int(fmap)))
k = cmp.rf
st.markdown(
    f"**{n} × conv3** and **one conv{k}** both see a **{k}×{k}** receptive field. "
    f"Parameters (biases ignored): {n}·3·3·C² = **{9 * n}C²** vs {k}·{k}·C² = **{k * k}C²**."
)
table = [
    {"": f"{n} stacked 3×3 convs", "receptive field": f"{k}×{k}", "parameters": cmp.stacked_params,
     "MACs": cmp.stacked_macs, "non-linearities": cmp.stacked_nonlinearities},
    {"": f"one {k}×{k} conv", "receptive field": f"{k}×{k}", "parameters": cmp.single_params,
     "MACs": cmp.single_macs, "non-linearities": cmp.single_nonlinearities},
]
st.dataframe(table, hide_index=True, column_config={
    "parameters": st.column_config.NumberColumn(format="localized"),
    "MACs": st.column_config.NumberColumn(format="localized"),
})
st.success(f"The stack saves {cmp.saving:.0%} of the parameters and MACs, and adds {n - 1} more ReLU(s).")

config = ui.config_selector()
size = ui.input_size_selector()
rows = ui.cached_layer_table(config.name, size)
spatial = [r.name for r in rows if r.type in SPATIAL and r.kernel is not None]

st.header("Receptive field, top-down")
st.latex(r"F(i) = (F(i+1) - 1) \times \mathrm{Stride} + \mathrm{Ksize}, \quad F = 1 \text{ at the unit}")
left, right = st.columns(2)
with left:
    st.markdown("**The slides' examples**")
    for title, chain in lecture.LECTURE_EXAMPLES.items():
        steps = lecture.topdown(chain)
        path = " → ".join(["1"] + [str(s.after) for s in steps])
        st.markdown(f"{title}: **{path}**")
        st.dataframe([{"layer": s.layer, "F(i) = (F(i+1) − 1) × stride + ksize": s.formula()} for s in steps],
                     hide_index=True)
with right:
    layer = st.selectbox(f"A layer of {config.name}", spatial, index=spatial.index("pool5") if "pool5" in spatial else 0,
                         key="topdown_layer")
    steps = lecture.topdown_for(rows, layer)
    st.markdown(f"One unit of **{layer}** sees **{steps[-1].after}×{steps[-1].after}** input pixels: "
                + " → ".join(["1"] + [str(s.after) for s in steps]))
    st.dataframe([{"layer": s.layer, "kernel": s.kernel, "stride": s.stride, "F(i)": s.formula()} for s in steps],
                 hide_index=True, height=min(38 + 35 * len(steps), 500))

st.header("Output size")
st.latex(r"out = \frac{in - F + 2P}{S} + 1")
row = next(r for r in rows if r.name == layer)
st.markdown(f"**{layer}** ({row.type}, F = {row.kernel}, S = {row.stride}, P = {row.padding}), "
            f"input {row.in_shape[1]}×{row.in_shape[2]}:")
st.code(f"height: {lecture.output_size_formula(row, 1)}\nwidth:  {lecture.output_size_formula(row, 2)}",
        language=None)
