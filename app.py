"""vggviz: an interactive version of the VGG lecture. Run with ``streamlit run app.py``."""

from pathlib import Path

import streamlit as st

from ui import language, navigation
from vggviz.i18n import _

language.current()  # before anything is drawn: the page title, navigation and pages speak it
# A local icon: a Material-symbol page icon would be fetched from a font CDN, which a classroom
# network may block.
ICON = str(Path(__file__).with_name("vggviz") / "assets" / "icon.png")
st.set_page_config(page_title=_("vggviz: inside VGG"), page_icon=ICON, layout="wide")
language.selector()
navigation.navigation().run()
