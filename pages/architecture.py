"""Architecture: the layer table and its charts for the chosen configuration and input size."""

import streamlit as st

import ui
from ui import lecture as widgets
from vggviz.architecture import charts, tables
from vggviz.architecture.layers import totals

config = ui.config_selector()
size = ui.input_size_selector()
rows = ui.cached_layer_table(config.name, size)
t = totals(rows)

st.title(f"Architecture of {config.label}")
st.caption(f"Input {size[0]}×{size[1]} RGB. Convs 3×3 (or 1×1), stride 1, padding 1; maxpool 2×2, stride 2.")
cols = st.columns(4)
cols[0].metric("Parameters", f"{t.params:,}")
cols[1].metric("Multiply-accumulates", f"{t.macs / 1e9:.3f} G")
cols[2].metric("Weight layers", t.weight_layers)
cols[3].metric("Final receptive field", f"{t.final_rf} px" if t.final_rf else "uneven")

widgets.layer_table(rows, key="arch_all_rows")
st.download_button(
    "Download the table as CSV", tables.to_csv(rows),
    file_name=f"{config.name}_{size[0]}x{size[1]}.csv", mime="text/csv", on_click="ignore",
)

fmap, rf, cost = st.tabs(["Feature-map size", "Receptive field", "Parameters and MACs"])
fmap.plotly_chart(charts.feature_map_chart(rows), key="fmap")
rf.plotly_chart(charts.receptive_field_chart(rows), key="rf")
log = cost.toggle("Log scale", value=True)
cost.plotly_chart(charts.cost_chart(rows, log=log), key="cost")
