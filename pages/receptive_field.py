"""See a receptive field: the box of input pixels that one unit of a layer sees, drawn on a photo, and on
request the effective receptive field that the network actually uses."""

import streamlit as st

import ui
from ui import lecture as widgets
from vggviz.i18n import _

config = ui.config_selector()
size = ui.input_size_selector()
rows = ui.cached_layer_table(config.name, size)

st.title(_("See a receptive field"))
row, unit, picked = widgets.unit_box(rows, size)
if st.toggle(_("Measure the effective receptive field (loads a model)"), key="erf_on"):
    from ui import erf as erf_ui  # torch and a model only when asked: the lecture pages stay light

    erf_ui.erf_section(config, size, row, unit, picked)
