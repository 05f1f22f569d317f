"""Attributions: which pixels made VGG say what it said, and what each block looks at (captum)."""

import math
from dataclasses import astuple

import numpy as np
import streamlit as st

from ui import dependent, models, trust
from vggviz import text
from vggviz.explain import attribution_view as view
from vggviz.explain.attributions import BASELINES, LAYER_METHODS, NEEDS_LAYER, Params, block_ends
from vggviz.explain.cams import CamParams
from vggviz.explain.methods import ALL_METHODS, CAM_METHODS, PER_CHANNEL, STRIP_CAMS
from vggviz.i18n import _

st.title(_("Attributions"))
lm, result, result_key = models.model_and_photo()
seen = models.seen(result, result_key)
convs = list(result.features)


def label(code: str) -> str:
    """An engine code such as ``blended_heat_map`` as words, in the reader's language."""
    return _(code.replace("_", " "))


def correlation(step) -> str:
    """A cascade step's caption: ρ, or why there is none (a constant map has no ranks to correlate)."""
    rho = step.rank_correlation
    if rho is None or math.isnan(rho):
        return _("{stage}: ρ undefined (constant map)", stage=step.stage)
    return _("{stage}: ρ = {rho:.2f}", stage=step.stage, rho=rho)


# --- what to explain ---
c1, c2 = st.columns([3, 2])
with c1:  # the predicted class of this photo and model, unless the user picked another one for them
    target = dependent.widget(st.selectbox, _("Explain the class"), range(len(lm.classes)), key="target",
                              default=int(np.argmax(result.probs)), depends_on=result_key,
                              format_func=models.class_labels(lm, result, result_key).__getitem__,
                              help=_("Type to search. Default: the predicted class."))
method = c2.selectbox(_("Method"), list(ALL_METHODS), format_func=lambda m: _(ALL_METHODS[m]), key="method")
kw = {}
with st.expander(_("Method settings"), key="method_settings",
                 expanded=method in NEEDS_LAYER or method in ("integrated_gradients", "occlusion")):
    if method in CAM_METHODS:
        kw = trust.settings(method, lm, convs)
    if method in NEEDS_LAYER:
        kw["layer"] = dependent.widget(st.selectbox, _("Conv layer"), convs, key="attr_layer", default=convs[-1],
                                       depends_on=tuple(convs))
    if method in ("integrated_gradients", "deeplift"):
        kw["baseline"] = st.radio(_("Baseline"), BASELINES, horizontal=True, key="baseline", format_func=label)
    if method == "integrated_gradients":
        kw["steps"] = st.slider(_("Steps"), 4, 128, 32, key="steps")
    if method == "smoothgrad":
        kw["samples"] = st.slider(_("Samples"), 2, 64, 16, key="samples")
        kw["stdev"] = st.slider(_("Noise σ (normalised units)"), 0.01, 1.0, 0.15, key="stdev")
    if method == "occlusion":
        kw["window"] = st.slider(_("Window (px)"), 8, 112, 56, key="window")
        kw["stride"] = st.slider(_("Stride (px)"), 4, 112, 28, key="stride")
    if method not in ("integrated_gradients", "deeplift", "smoothgrad", "occlusion") and method not in NEEDS_LAYER \
            and method not in CAM_METHODS:
        st.caption(_("This method has no settings."))
if method in CAM_METHODS:
    params = CamParams(method, int(target), **kw)
    attr = trust.attribution(lm, result, result_key, params)
else:
    params = Params(method, int(target), **kw)
    attr = models.attribution(lm, result, result_key, params)

# --- how to show it ---
d1, d2, d3 = st.columns(3)
shown = d1.selectbox(_("Show as"), view.VIEWS, key="view", format_func=label)
sign = d2.selectbox(_("Sign"), view.SIGNS, key="sign", format_func=label)
outlier = d3.slider(_("Clip the top % (outliers)"), 0.0, 10.0, 2.0, 0.5, key="outlier")
left, right = st.columns([3, 2])
attr_key = (result_key, astuple(params))
try:
    picture = models.attribution_png(attr, seen, attr_key, sign, outlier, shown)
except ValueError as exc:  # masked image / alpha scaling with both signs
    picture = None
    left.warning(str(exc))
else:
    left.image(picture, output_format="PNG", width="stretch",
               caption=_("{method} for {label}", method=_(ALL_METHODS[method]), label=text.markdown(lm.classes[target])))
with right:
    st.image(models.colour_bar_png(sign), output_format="PNG", width="stretch")
    st.caption(_("{range} (scaled so that the top {outlier:g} % is clipped)",
                 range="−1 … 0 … +1" if sign == "all" else "0 … 1", outlier=outlier))
    # Deferred: the bytes are made (or handed over) on a click, not registered on every rerun.
    if picture is not None:
        st.download_button(_("Download picture (PNG)"), lambda: picture, f"{method}_{target}.png",
                           "image/png", on_click="ignore", key="dl_png")
    st.download_button(_("Download raw attribution (.npy)"), lambda: view.npy_bytes(attr),
                       f"{method}_{target}.npy", "application/octet-stream", on_click="ignore", key="dl_npy")
    st.caption(_("Raw attribution: shape {shape}, at the model's {h}×{w} input.", shape=tuple(attr.shape),
                 h=attr.shape[-2], w=attr.shape[-1]))

# --- per block ---
st.subheader(_("What each block looks at"))
s1, s2 = st.columns([1, 3])
layer_method = s1.radio(_("Layer method"), [*LAYER_METHODS, *STRIP_CAMS], format_func=trust.strip_label,
                        key="strip_method", help=_("LayerCAM keeps the fine detail of early blocks."))
with s2:  # the last conv layer of each block of this configuration, unless the user chose others for it
    layers = dependent.widget(st.multiselect, _("Conv layers"), convs, key="strip_layers",
                              default=block_ends(lm.model), depends_on=tuple(convs),
                              placeholder=_("Choose conv layers"))
if layers:
    strip = trust.strip if layer_method in STRIP_CAMS else models.strip
    maps = strip(lm, result, result_key, int(target), tuple(layers), layer_method)
    strip_sign = "positive" if layer_method == "gradcam" or layer_method in STRIP_CAMS else "absolute_value"
    strip_key = (result_key, int(target), tuple(layers), layer_method)
    pictures = models.strip_pngs(maps, seen, strip_key, strip_sign, outlier)
    for col, name in zip(st.columns(len(layers)), layers):
        col.image(pictures[name], output_format="PNG", caption=name, width="stretch")

# --- sanity check ---
st.subheader(_("Sanity check"))
if method in PER_CHANNEL:
    st.caption(_("Not offered for {method}: it already runs a forward pass for every channel of its layer, and the "
                 "check would run the whole method again for every randomised stage. Try it with Grad-CAM or "
                 "LayerCAM, which share the layer.", method=_(ALL_METHODS[method])))
if st.toggle(_("Randomise the weights layer by layer, from fc8 down to conv1_1"), key="sanity",
             disabled=method in PER_CHANNEL,  # nine more runs of a per-channel method
             help=_("Adebayo et al., 'Sanity Checks for Saliency Maps', NeurIPS 2018: a map that barely changes "
                    "when the learned weights are destroyed does not explain what the network learned.")) \
        and method not in PER_CHANNEL:
    steps = models.cascade(lm, result, result_key, params)
    cols = st.columns(min(len(steps), 6))
    for i, step in enumerate(steps):
        img = models.attribution_png(step.attribution, seen, (*attr_key, step.stage), "absolute_value", outlier,
                                     "heat_map")
        cols[i % len(cols)].image(img, output_format="PNG", width="stretch", caption=correlation(step))
    st.caption(_("ρ: Spearman rank correlation of |attribution| with the original map. It should fall as more "
                 "layers are randomised; a method whose ρ stays high is mostly showing the input, not the model. "
                 "A constant map (all pixels equal) has no ranks to correlate: its ρ is undefined."))

trust.section(lm, result, result_key, attr, attr_key, method, int(target))
