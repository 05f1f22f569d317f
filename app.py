"""vggviz: an interactive version of the VGG lecture. Run with ``streamlit run app.py``."""

from pathlib import Path

import streamlit as st

from ui import language, serving
from vggviz.i18n import _

language.current()  # before anything is drawn: the page title, navigation and pages speak it
# A local icon: a Material-symbol page icon would be fetched from a font CDN, which a classroom
# network may block.
ICON = str(Path(__file__).with_name("vggviz") / "assets" / "icon.png")
st.set_page_config(page_title=_("vggviz: inside VGG"), page_icon=ICON, layout="wide")
language.selector()
serving.lost_session_notice()

LECTURE = [
    st.Page("pages/home.py", title=_("Home"), icon=":material/home:", default=True),
    st.Page("pages/architecture.py", title=_("Architecture"), icon=":material/view_column:"),
    st.Page("pages/compare.py", title=_("Compare configurations"), icon=":material/table_chart:"),
    st.Page("pages/arithmetic.py", title=_("The lecture's arithmetic"), icon=":material/calculate:"),
    st.Page("pages/receptive_field.py", title=_("See a receptive field"), icon=":material/center_focus_strong:"),
]
PHOTO = [
    st.Page("pages/predict.py", title=_("Predict"), icon=":material/image_search:"),
    st.Page("pages/feature_maps.py", title=_("Feature maps"), icon=":material/grid_view:"),
    st.Page("pages/attributions.py", title=_("Attributions"), icon=":material/local_fire_department:"),
]
st.navigation({_("The lecture"): LECTURE, _("A photo through VGG"): PHOTO}).run()
