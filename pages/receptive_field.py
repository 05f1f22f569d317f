"""See a receptive field: the box of input pixels that one unit of a layer sees, drawn on a photo."""

import streamlit as st

import ui
from ui import lecture as widgets
from vggviz.i18n import _

config = ui.config_selector()
size = ui.input_size_selector()
rows = ui.cached_layer_table(config.name, size)

st.title(_("See a receptive field"))
widgets.unit_box(rows, size)
