"""Compare configurations: the paper's Table 1 regenerated, totals beside Tables 2 and 3, and every
configuration's receptive-field growth."""

import streamlit as st

import ui
from ui import lecture as widgets
from vggviz.architecture import charts

st.title("Compare configurations")
st.subheader("Table 1, regenerated from the configuration data")
widgets.table1()

size = ui.input_size_selector()
st.subheader(f"Totals at {size[0]}×{size[1]}")
widgets.comparison(size)
st.plotly_chart(charts.receptive_field_overlay(size), key="overlay")
