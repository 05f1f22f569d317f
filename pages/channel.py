"""What each channel looks for: one unit (configuration, conv layer, channel; a link can name it) shown by its
feature visualisation, its dataset examples, conv1_1's kernel, and, in expanders, the class models, the
layer's gallery and the same unit under other weights."""

import streamlit as st

import ui
from ui import learned, models
from vggviz.i18n import _

st.title(_("What each channel looks for"))
learned.read_link()  # before the sidebar's configuration selector: a link's configuration goes there
lm = models.model_picker(ui.config_selector())
if lm is None:
    st.stop()
models.model_banner(lm)
layer, channel = learned.unit_picker(lm)
learned.share(lm, layer, channel)
preset, settings, seed = learned.settings_picker()
left, right = st.columns(2)
with left:
    learned.feature_visualisation(lm, layer, channel, settings, seed)
    learned.first_filter(lm, layer, channel)
with right:
    learned.dataset_examples(lm, layer, channel)
learned.class_models(lm, preset)
learned.layer_gallery_section(lm, layer, settings, seed)
learned.other_weights(lm, layer, channel, settings, seed)
