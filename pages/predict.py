"""Predict: what VGG says about a photo, and the photo as the model sees it."""

import weakref

import streamlit as st

import ui
from ui import dependent, language, models
from vggviz.i18n import _
from vggviz.photo.inference import LoadedModel


@st.fragment
def photo_and_predictions(held: weakref.ref | None, preprocess: str | None) -> None:
    """The photo, the top k and the predictions. A fragment: a new photo (an upload, a camera shot, another
    sample) or another k reruns this part alone, not the whole page with its sidebar; in a class every
    student's photo costs the server that much less beside the forward pass (python -m bench --only server).
    The model is held weakly, as Streamlit keeps a fragment's arguments until the session's next full run."""
    language.restore()  # a fragment's rerun does not pass through app.py, which sets the language
    lm: LoadedModel | None = held() if held is not None else None
    if held is not None and lm is None:  # the shared model was dropped from the cache since the last full run
        st.rerun(scope="app")
    left, right = st.columns([1, 2])
    with left:
        picked = ui.photo_picker()
    if lm is None or picked is None:
        return
    photo, photo_key = picked
    with left:
        # The top-k default follows the model's number of classes.
        most = min(20, len(lm.classes))
        k = dependent.widget(st.slider, _("Top k"), 1, most, key="topk", default=min(5, most), depends_on=most)

    result_key = (models.model_key(lm), photo_key, preprocess)
    result = models.forward(lm, *result_key[:2], photo, preprocess, features=False)  # no maps kept
    with right:
        models.predictions(lm, result, result_key, k)
    with left:
        st.image(models.seen_jpeg_url(result, result_key),
                 caption=_("The photo as the model sees it (after preprocessing)"))


st.title(_("What does VGG see?"))
config = ui.config_selector()
lm = models.model_picker(config)
preprocess = models.preprocess_selector(lm) if lm is not None else None  # in the sidebar, as on every photo page
photo_and_predictions(weakref.ref(lm) if lm is not None else None, preprocess)
