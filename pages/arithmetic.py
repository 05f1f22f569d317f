"""The lecture's arithmetic, interactive: stacked 3×3 convs vs one big kernel, the top-down
receptive-field recursion, and the output-size formula."""

import streamlit as st

import ui
from ui import lecture as widgets
from vggviz.i18n import _

st.title(_("The lecture's arithmetic"))

st.header(_("Why stacking three 3×3 convs beats one large kernel (7×7)"))
widgets.stack_comparison(key="stack")

config = ui.config_selector()
size = ui.input_size_selector()
rows = ui.cached_layer_table(config.name, size)

st.header(_("Receptive field, top-down"))
layer = widgets.topdown(rows, config.name)

st.header(_("Output size"))
widgets.output_size(rows, layer)
