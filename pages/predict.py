"""Predict: what VGG says about a photo, and the photo as the model sees it."""

import streamlit as st

import ui
from ui import dependent, models, present
from vggviz import text
from vggviz.architecture import charts
from vggviz.i18n import _, ngettext

st.title(_("What does VGG see?"))
config = ui.config_selector()
lm = models.model_picker(config)
left, right = st.columns([1, 2])
with left:
    picked = ui.photo_picker()
if lm is None or picked is None:
    st.stop()
photo, photo_key = picked
model_key = models.model_key(lm)
preprocess = models.preprocess_selector(lm)  # in the sidebar, as on every photo page
with left:
    # The top-k default follows the model's number of classes.
    most = min(20, len(lm.classes))
    k = dependent.widget(st.slider, _("Top k"), 1, most, key="topk", default=min(5, most), depends_on=most)

result_key = (model_key, photo_key, preprocess)
result = models.forward(lm, *result_key[:2], photo, preprocess, features=False)  # no maps kept
with right:
    models.model_banner(lm)
    st.plotly_chart(present.chart(charts.topk_chart(result.top(lm.classes, k))), key="topk_chart")
    model, ms = text.markdown(str(lm.describe())), result.seconds * 1000
    st.caption(_("{model} · forward pass: {ms:.0f} ms", model=model, ms=ms) if result.batch == 1 else
               ngettext("{model} · {ms:.0f} ms: computed in one forward pass with {n} other photo",
                        "{model} · {ms:.0f} ms: computed in one forward pass with {n} other photos",
                        result.batch - 1, model=model, ms=ms))
with left:
    st.image(models.seen_jpeg(result, result_key), output_format="JPEG",
             caption=_("The photo as the model sees it (after preprocessing)"))
