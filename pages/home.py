"""Home: what VGG is and what each page shows."""

import streamlit as st

import ui
from ui import navigation, sharing
from vggviz.architecture import configs
from vggviz.architecture.layers import totals
from vggviz.i18n import Items, _

st.title(_("Inside VGG"))
st.markdown(_(
    "**VGG** (Simonyan & Zisserman, *Very Deep Convolutional Networks for Large-Scale Image Recognition*, "
    "ICLR 2015) came first in the localisation task and second in the classification task of ILSVRC 2014. "
    "Its idea fits in one line: use only **3×3 convolutions** (stride 1, padding 1) and **2×2 max pooling** "
    "(stride 2), and increase the depth. Two stacked 3×3 convs see as much as one 5×5, three as much as one "
    "7×7, with fewer parameters and more non-linearities.\n\n"
    "Every configuration has five blocks of conv layers separated by max pooling layers, then three fully "
    "connected layers (FC-4096, FC-4096, FC-1000) and a soft-max. The paper's six configurations, "
    "**A, A-LRN, B, C, D (VGG-16) and E (VGG-19)**, differ only in how many convs each block holds. "
    "Pick one in the sidebar; every page follows it."
))
config = ui.config_selector()
side = configs.DEFAULT_INPUT
t = totals(ui.cached_layer_table(config.name, (side, side)))
with st.container(horizontal=True):  # one block, not a row of four columns: fewer messages per visit
    st.metric(_("Weight layers"), t.weight_layers)
    st.metric(_("Parameters"), f"{t.params:,}")
    st.metric(_("Multiply-accumulates at {h}×{w} (MACs)", h=side, w=side), f"{t.macs / 1e9:.2f} G")
    st.metric(_("Receptive field of pool5"), f"{t.final_rf} px")

st.subheader(_("Pages"))
navigation.links()
st.caption(_(
    "Configurations: {names}; torchvision names ({aliases}) are accepted by the command line too: {example}.",
    names=Items(configs.NAMES), aliases=Items(configs.ALIASES), example="`python -m vggviz summary vgg16`",
))

st.subheader(_("Share with the class: scan to join"))
sharing.panel("share_home", beside=True)
