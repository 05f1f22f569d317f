"""vggviz: an interactive version of the VGG lecture. Run with ``streamlit run app.py``."""

import streamlit as st

st.set_page_config(page_title="vggviz: inside VGG", page_icon=":material/visibility:", layout="wide")

LECTURE = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/architecture.py", title="Architecture", icon=":material/view_column:"),
    st.Page("pages/compare.py", title="Compare configurations", icon=":material/table_chart:"),
    st.Page("pages/arithmetic.py", title="The lecture's arithmetic", icon=":material/calculate:"),
    st.Page("pages/receptive_field.py", title="See a receptive field", icon=":material/center_focus_strong:"),
]
st.navigation({"The lecture": LECTURE}).run()
