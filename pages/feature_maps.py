"""Feature maps: every conv layer's channels, one enlarged over the photo, and the filters."""

import weakref

import streamlit as st

from ui import channel_link, dependent, models, present
from ui import erf as erf_ui
from vggviz.i18n import _
from vggviz.photo import render

st.title(_("Feature maps"))
lm, result, result_key = models.model_and_photo()

blocks = lm.model.conv_blocks()
c1, c2, c3, c4 = st.columns([2, 2, 2, 3])
block = c1.segmented_control(_("Block"), list(blocks), default=1, key="fm_block") or 1
with c2:  # one choice per block, reset when the configuration gives the block other layers
    layer = dependent.widget(st.selectbox, _("Layer"), blocks[block], key=f"fm_layer_{block}",
                             default=blocks[block][0], depends_on=tuple(blocks[block]))
relu = c3.toggle(_("After ReLU"), value=True, key="fm_relu")
maps = result.features[layer]
top = c4.select_slider(_("Channels shown"), ["all", 8, 16, 32, 64, 128], value="all", key="fm_top",
                       format_func=lambda v: _("All") if v == "all" else str(v),
                       help=_("all, or the channels with the highest mean activation"))
channels = tuple(int(c) for c in render.select_channels(maps, None if top == "all" else top, relu))
sizes = dict(layer=layer, shown=len(channels), total=len(maps), h=maps.shape[1], w=maps.shape[2])
models.layer_grid_section(weakref.ref(result), result_key, layer, relu, channels, sizes, ordered=top != "all")

st.subheader(_("One channel, enlarged"))
left, right = st.columns([1, 2])
with left:  # starts at the most active channel shown; a new photo or layer starts there again
    channel = dependent.widget(st.number_input, _("Channel"), 0, len(maps) - 1, key="fm_channel",
                               default=channels[0], depends_on=(result_key, layer))
alpha = left.slider(_("Overlay opacity"), 0.0, 1.0, 0.6, key="fm_alpha")
picture, numbers = models.channel_view(result, result_key, layer, int(channel), relu, alpha)
left.metric(_("max"), f"{numbers['max']:.3g}")
left.markdown(_("min {min:.3g} · mean {mean:.3g} · zeros {zeros:.0%}", **numbers))
erf_ui.clickable_channel(right, picture, _("{layer}, channel {channel}, upsampled over the input the model saw",
                                            layer=layer, channel=channel), layer, maps.shape[1:])
channel_link.page_link(lm.config.name, layer, int(channel), _("What does this channel look for?"))
erf_ui.unit_panel(lm, result, result_key, layer, int(channel), maps.shape[1:])

with st.expander(_("Filters: conv1_1's kernels and any layer's weights"), key="fm_filters"):
    f1, f2 = st.columns([1, 2])
    f1.image(models.filters_png(lm, models.model_key(lm)), output_format="PNG",
             caption=_("conv1_1's kernels as RGB patches"))
    weighted = [s.name for s in lm.model.specs if s.type in ("conv", "fc")]
    with f2:
        name = dependent.widget(st.selectbox, _("Layer"), weighted, key="hist_layer", default=weighted[0],
                                depends_on=tuple(weighted))
    f2.plotly_chart(present.chart(models.weight_histogram(lm, models.model_key(lm), name)), key="hist")
