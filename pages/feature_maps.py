"""Feature maps: every conv layer's channels, one enlarged over the photo, and the filters."""

import streamlit as st

from ui import erf as erf_ui, models
from vggviz.photo import render

st.title("Feature maps")
lm, result, result_key = models.model_and_photo()

blocks = lm.model.conv_blocks()
c1, c2, c3, c4 = st.columns([2, 2, 2, 3])
block = c1.segmented_control("Block", list(blocks), default=1, key="fm_block") or 1
layer = c2.selectbox("Layer", blocks[block], key=f"fm_layer_{block}")
relu = c3.toggle("After ReLU", value=True, key="fm_relu")
scale = c3.radio("Colour scale", render.SCALES, key="fm_scale", horizontal=False)
maps = result.features[layer]
top = c4.select_slider("Channels shown", ["all", 8, 16, 32, 64, 128], value="all", key="fm_top",
                       help="all, or the channels with the highest mean activation")
channels = render.select_channels(maps, None if top == "all" else top, relu)
grid = models.layer_grid(result, result_key, layer, relu, scale == render.SCALES[1], tuple(int(c) for c in channels))
st.image(grid, output_format="PNG", width="stretch",
         caption=f"{layer}: {len(channels)} of {len(maps)} channels, {maps.shape[1]}×{maps.shape[2]} each"
         f"{', ordered by mean activation' if top != 'all' else ''}")

st.subheader("One channel, enlarged")
left, right = st.columns([1, 2])
channel = left.number_input("Channel", 0, len(maps) - 1, int(channels[0]), key="fm_channel")
alpha = left.slider("Overlay opacity", 0.0, 1.0, 0.6, key="fm_alpha")
picture, numbers = models.channel_view(result, result_key, layer, int(channel), relu, alpha)
left.metric("max", f"{numbers['max']:.3g}")
left.markdown(f"min {numbers['min']:.3g} · mean {numbers['mean']:.3g} · zeros {numbers['zeros']:.0%}")
erf_ui.clickable_channel(right, picture, f"{layer}, channel {channel}, upsampled over the input the model saw", layer,
                        maps.shape[1:])
erf_ui.unit_panel(lm, result, result_key, layer, int(channel), maps.shape[1:])

with st.expander("Filters: conv1_1's kernels and any layer's weights"):
    f1, f2 = st.columns([1, 2])
    f1.image(models.filters_png(lm, models.model_key(lm)), output_format="PNG",
             caption="conv1_1's kernels as RGB patches")
    weighted = [s.name for s in lm.model.specs if s.type in ("conv", "fc")]
    name = f2.selectbox("Layer", weighted, key="hist_layer")
    f2.plotly_chart(models.weight_histogram(lm, models.model_key(lm), name), key="hist")
