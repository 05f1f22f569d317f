"""vggviz: an interactive version of the VGG lecture. Run with ``streamlit run app.py``."""

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

# This script is the app: leave Streamlit's legacy multipage mode (on at a server's first run, because a
# pages/ folder exists) before anything imports ``ui``, whose import reruns a legacy-mode run. Without
# this, the very first session of a server gets the legacy file-name menu until that rerun lands, and a
# click on it meanwhile runs a page without the app around it.
PagesManager.uses_pages_directory = False

import ui  # noqa: E402 (after the switch above)
from ui import language, navigation, present, serving, sharing  # noqa: E402
from vggviz.i18n import _

language.current()  # before anything is drawn: the page title, navigation and pages speak it
ui.keep_shared_choices()
st.set_page_config(page_title=_("vggviz: inside VGG"), page_icon=ui.PAGE_ICON, layout="wide")
language.selector()
present.toggle()
serving.lost_session_notice()
page = navigation.navigation()
# Before the page, so that a page that stops (no photo yet, a bad input) still has it. The URL it reads is the one
# the last run left: the popover opens in a run of its own, and a click on the page closes it.
sharing.sidebar(page.url_path)
present.bar(page.url_path)
try:
    page.run()
finally:  # once per server, after a first run that imported what its page needs, whether or not it stopped early
    serving.settle_heap()
