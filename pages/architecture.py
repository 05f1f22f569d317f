"""Architecture: the layer table and its charts for the chosen configuration and input size."""

import streamlit as st

import ui
from ui import lecture as widgets, present
from vggviz.architecture import charts, tables
from vggviz.architecture.layers import totals
from vggviz.i18n import _

config = ui.config_selector()
size = ui.input_size_selector()
rows = ui.cached_layer_table(config.name, size)
t = totals(rows)

st.title(_("Architecture of {config}", config=config.label))
st.caption(_("Input {h}×{w} RGB. Convs 3×3 (or 1×1), stride 1, padding 1; max pooling 2×2, stride 2.",
             h=size[0], w=size[1]))
cols = st.columns(4)
cols[0].metric(_("Parameters"), f"{t.params:,}")
cols[1].metric(_("Multiply-accumulates (MACs)"), f"{t.macs / 1e9:.3f} G")
cols[2].metric(_("Weight layers"), t.weight_layers)
cols[3].metric(_("Final receptive field"), f"{t.final_rf} px" if t.final_rf else _("uneven"))

widgets.layer_table(rows, key="arch_all_rows")
st.download_button(
    _("Download the table as CSV"), tables.to_csv(rows),
    file_name=f"{config.name}_{size[0]}x{size[1]}.csv", mime="text/csv", on_click="ignore", key="arch_csv",
)

fmap, rf, cost = st.tabs([_("Feature-map size"), _("Receptive field"), _("Parameters and MACs")], key="arch_tabs")
fmap.plotly_chart(present.chart(charts.feature_map_chart(rows)), key="fmap")
rf.plotly_chart(present.chart(charts.receptive_field_chart(rows)), key="rf")
log = cost.toggle(_("Log scale"), value=True, key="arch_log")
cost.plotly_chart(present.chart(charts.cost_chart(rows, log=log)), key="cost")
