"""Compare configurations: the paper's Table 1 regenerated, totals beside Tables 2 and 3, and every
configuration's receptive-field growth."""

import streamlit as st

import ui
from ui import lecture as widgets, present
from vggviz.architecture import charts
from vggviz.i18n import _

st.title(_("Compare configurations"))
st.subheader(_("Table 1, regenerated from the configuration data"))
widgets.table1()

size = ui.input_size_selector()
st.subheader(_("Totals at {h}×{w}", h=size[0], w=size[1]))
widgets.comparison(size)
st.plotly_chart(present.chart(charts.receptive_field_overlay(size)), key="overlay")
