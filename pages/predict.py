"""Predict: what VGG says about a photo, and the photo as the model sees it."""

import streamlit as st

import ui
from ui import models
from vggviz.architecture import charts
from vggviz import text
from vggviz.photo.inference import PREPROCESSING

st.title("What does VGG see?")
config = ui.config_selector()
lm = models.model_picker(config)
left, right = st.columns([1, 2])
with left:
    picked = ui.photo_picker()
if lm is None or picked is None:
    st.stop()
photo, photo_key = picked
with left:
    preprocess = st.radio("Preprocessing", list(PREPROCESSING), index=list(PREPROCESSING).index(lm.preprocess),
                          format_func=PREPROCESSING.get, key="preprocess",
                          help="Default: what these weights were trained with.")
    k = st.slider("Top k", 1, min(20, len(lm.classes)), min(5, len(lm.classes)), key="topk")

result_key = (models.model_key(lm), photo_key, preprocess)
result = models.forward(lm, *result_key[:2], photo, preprocess)
with right:
    models.model_banner(lm)
    st.plotly_chart(charts.topk_chart(result.top(lm.classes, k)), key="topk_chart")
    st.caption(f"{text.markdown(lm.describe())} · forward pass with every conv layer's maps: {result.seconds * 1000:.0f} ms")
with left:
    st.image(models.seen_png(result, result_key), output_format="PNG",
             caption="The photo as the model sees it (after preprocessing)")
