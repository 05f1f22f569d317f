"""Compare configurations: the paper's Table 1 regenerated, totals beside Tables 2 and 3, and every
configuration's receptive-field growth."""

import streamlit as st

import ui
from vggviz.architecture import charts, tables

st.title("Compare configurations")
st.subheader("Table 1, regenerated from the configuration data")
st.caption("`conv3-64`: 3×3 conv, 64 channels; `conv1-256`: 1×1 conv; LRN: local response normalisation.")
st.plotly_chart(charts.table1_figure(), key="table1")

size = ui.input_size_selector()
st.subheader(f"Totals at {size[0]}×{size[1]}")
st.dataframe(
    tables.comparison(size), hide_index=True, width="stretch",
    column_config={"params": st.column_config.NumberColumn(format="localized")},
)
st.caption("Parameters match the paper's Table 2 after rounding; errors are the paper's Table 3 "
           "(single scale, train/test 256/256). torchvision's *_bn variants were not in the paper.")
st.plotly_chart(charts.receptive_field_overlay(size), key="overlay")
