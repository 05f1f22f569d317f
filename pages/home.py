"""Home: what VGG is and what each page shows."""

import streamlit as st

import ui
from vggviz.architecture import configs, tables

st.title("Inside VGG")
st.markdown(
    """
**VGG** (Simonyan & Zisserman, *Very Deep Convolutional Networks for Large-Scale Image Recognition*,
ICLR 2015) came first in localisation and second in classification at ILSVRC 2014. Its idea fits in
one line: use only **3×3 convolutions** (stride 1, padding 1) and **2×2 max-pooling** (stride 2), and
go deep. Two stacked 3×3 convs see as much as one 5×5, three as much as one 7×7, with fewer
parameters and more non-linearities.

The paper's six configurations, **A, A-LRN, B, C, D (VGG-16) and E (VGG-19)**, differ only in how
many convs each of the five blocks holds. Pick one in the sidebar; every page follows it.
"""
)
config = ui.config_selector()
row = next(r for r in tables.comparison() if r["config"] == config.name)
cols = st.columns(4)
cols[0].metric("Weight layers", row["weight layers"])
cols[1].metric("Parameters", f"{row['params']:,}")
cols[2].metric("Multiply-accumulates (224×224)", f"{row['GMACs']} G")
cols[3].metric("Receptive field of pool5", f"{row['final r']} px")

st.subheader("Pages")
st.page_link("pages/architecture.py", label="Architecture: the layer table, feature-map sizes, receptive-field growth", icon=":material/view_column:")
st.page_link("pages/compare.py", label="Compare configurations: Table 1 regenerated, parameters, MACs", icon=":material/table_chart:")
st.page_link("pages/arithmetic.py", label="The lecture's arithmetic: 3×3 stacks, the receptive-field recursion", icon=":material/calculate:")
st.page_link("pages/receptive_field.py", label="See a receptive field on a photo", icon=":material/center_focus_strong:")
st.caption(
    f"Configurations: {', '.join(configs.NAMES)}; torchvision names ({', '.join(configs.ALIASES)}) are "
    "accepted by the command line too: `python -m vggviz summary vgg16`."
)
