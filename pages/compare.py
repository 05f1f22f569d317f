"""Compare configurations: the paper's Table 1 regenerated, totals beside Tables 2 and 3, and every
configuration's receptive-field growth."""

import streamlit as st

import ui
from vggviz.architecture import charts, tables
from vggviz.i18n import _

st.title(_("Compare configurations"))
st.subheader(_("Table 1, regenerated from the configuration data"))
st.caption(_("`conv3-64`: 3×3 conv, 64 channels; `conv1-256`: 1×1 conv; LRN: local response normalisation."))
st.plotly_chart(charts.table1_figure(), key="table1")

size = ui.input_size_selector()
st.subheader(_("Totals at {h}×{w}", h=size[0], w=size[1]))
st.dataframe(
    tables.comparison(size), hide_index=True, width="stretch",
    column_config={"params": st.column_config.NumberColumn(format="localized")},
)
st.caption(_("Parameters match the paper's Table 2 after rounding; errors are the paper's Table 3 "
             "(single scale, train/test 256/256). torchvision's *_bn variants were not in the paper."))
st.plotly_chart(charts.receptive_field_overlay(size), key="overlay")
