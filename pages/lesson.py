"""Lesson: the slides one step at a time, each with its live widget and an exercise that checks itself."""

import streamlit as st

from ui import lesson
from vggviz.i18n import _

st.title(_("Lesson: VGG step by step"))
lesson.show()
