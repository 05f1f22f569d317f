"""vggviz: an interactive version of the VGG lecture. Run with ``streamlit run app.py``."""

import streamlit as st

st.set_page_config(page_title="vggviz: inside VGG", page_icon="🔎", layout="wide")

LECTURE = [
    st.Page("pages/home.py", title="Home", icon="🏠", default=True),
    st.Page("pages/architecture.py", title="Architecture", icon="🧱"),
    st.Page("pages/compare.py", title="Compare configurations", icon="📊"),
    st.Page("pages/arithmetic.py", title="The lecture's arithmetic", icon="🧮"),
    st.Page("pages/receptive_field.py", title="See a receptive field", icon="🎯"),
]
st.navigation({"The lecture": LECTURE}).run()
