"""Glossary: the lecture's terms in Chinese and English, and where the app uses them."""

import streamlit as st

import ui  # noqa: F401 (a server's first session opening this page leaves Streamlit's legacy page menu)
from vggviz.glossary import TERMS
from vggviz.i18n import LANGUAGES, _

st.title(_("Glossary"))
st.markdown(_("The Chinese terms are the lecture slides' own, the English ones those of Simonyan & Zisserman's "
              "paper and of the papers after it. Both columns stay as they are in either language."))

COLUMNS = {
    "zh": st.column_config.TextColumn(LANGUAGES["zh"]),  # the languages' own names, as in the language choice
    "en": st.column_config.TextColumn(LANGUAGES["en"]),
    "where": st.column_config.TextColumn(_("Where in the app"), width="large"),
}
for heading, lecture in ((_("The lecture's terms"), True), (_("Terms of this app"), False)):
    st.subheader(heading)
    st.dataframe([{"zh": t.zh, "en": t.en, "where": _(t.where)} for t in TERMS if t.lecture == lecture],
                 hide_index=True, width="stretch", column_config=COLUMNS)
