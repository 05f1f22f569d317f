"""Evaluate a folder: how accurate a trained VGG is on a zip of class folders, which classes it confuses,
and why (Grad-CAM for the true and the predicted class of its most confident mistakes)."""

import streamlit as st

import ui
from ui import evaluate as ev_ui, models
from vggviz import text
from vggviz.evaluate.errors import EvaluationError
from vggviz.i18n import _, ngettext
from vggviz.photo.inference import PREPROCESSING

st.title(_("Evaluate a folder"))
st.caption(_("Upload a validation set as a zip of class folders, as the lecture's split_data.py makes "
             "(flower_data/val/daisy/…), choose the weights in the sidebar, and see how good the model is."))
lm = models.model_picker(ui.config_selector())
upload = ev_ui.zip_upload()
if lm is None or upload is None:
    st.stop()
data, name, digest = upload
models.model_banner(lm)
try:
    listing = ev_ui.listing(digest, name, data)
except EvaluationError as exc:
    st.error(text.markdown(str(exc)))
    st.stop()
st.caption(_("{name}: {files} in {folders}", name=text.markdown(name),
             files=ngettext("{n} file", "{n} files", listing.files),
             folders=ngettext("{n} class folder", "{n} class folders", len(listing.folders))))
preprocess = st.radio(_("Preprocessing of the photos"), list(PREPROCESSING),
                      index=list(PREPROCESSING).index(lm.preprocess),
                      format_func=lambda k: _(PREPROCESSING[k]), key=f"eval_preprocess_{lm.preprocess}",
                      horizontal=True, help=_("Default: the preprocessing these weights were trained with."))
evaluation = ev_ui.run(lm, listing, digest, preprocess)
if evaluation is not None:
    ev_ui.results(lm, evaluation, listing, digest)
