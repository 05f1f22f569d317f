"""Streamlit glue for the model pages: weights, device and precision in the sidebar, the shared model
cache, the ImageNet download with a progress bar, and the cached forward pass."""

from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st
from PIL import Image

import ui
from ui import _keep
from vggviz.explain import attribution_view as view
from vggviz.architecture import charts, configs
from vggviz.photo import device as devices, memory, render, weights
from vggviz import text
from vggviz.explain.attributions import Params, attributor, cascading_randomisation
from vggviz.explain.cams import CamParams
from vggviz.explain.methods import ALL_METHODS
from vggviz.photo.checkpoints import CheckpointError
from vggviz.photo.inference import (
    LoadedModel, Result, first_filters, input_tensor, layer_weights, load_model, model_view, run,
)

CHECKPOINT_MB = 600  # a VGG-19 state_dict is about 550 MB; .streamlit/config.toml allows this much
WEIGHT_LABELS = {"imagenet": "ImageNet (torchvision)", "checkpoint": "Checkpoint file", "random": "Untrained (random)"}


@st.cache_resource(max_entries=2, show_spinner="Loading the model…")
def _load_model(config: str, weights: str, device: str, half: bool, check_hash: bool,
                checkpoint_key: str | None = None, _checkpoint: bytes | None = None,
                checkpoint_name: str | None = None, _classes: bytes | None = None) -> LoadedModel:
    # One model per (configuration, weights, device) for every session; checkpoints are keyed by their
    # digest (``checkpoint_key``), their bytes (``_checkpoint``) are not hashed on every rerun.
    return load_model(config, weights, checkpoint=_checkpoint, checkpoint_name=checkpoint_name,
                      classes=_classes, device=device, half=half, check_hash=check_hash)


def model_picker(config: configs.Config) -> LoadedModel | None:
    """Sidebar choice of weights, device and precision; returns the shared model, or None with a message."""
    has_imagenet = config.torchvision_name is not None
    options = ["imagenet", "checkpoint", "random"] if has_imagenet else ["random", "checkpoint"]
    _keep("weights", options[0])
    if st.session_state.weights not in options:
        st.session_state.weights = options[0]
    source = st.sidebar.radio("Weights", options, key="weights", format_func=WEIGHT_LABELS.get)
    if not has_imagenet:
        st.sidebar.caption(f"{config.name} has no public pretrained weights: untrained, or your checkpoint.")
    dev_choices = devices.available()
    _keep("device", "auto")
    device = st.sidebar.selectbox("Device", dev_choices, key="device",
                                  help="auto: CUDA, then Apple MPS, then the CPU")
    half = False
    if "cuda" in dev_choices and device in ("auto", "cuda"):
        _keep("half", False)
        half = st.sidebar.toggle("Half precision", key="half", help="float16 on the GPU: faster, slightly different numbers")

    if source == "checkpoint":
        return _checkpoint_model(device, half)
    if source == "random":
        return _untrained(config, device, half)
    return _imagenet_model(config, device, half)


def _imagenet_model(config: configs.Config, device: str, half: bool) -> LoadedModel:
    w = weights.imagenet_weights(config)
    path = weights.cached_path(w)
    trusted = st.session_state.get("trusted_files", set())
    if path.is_file():
        try:
            return _load_model(config.name, "imagenet", device, half, path.name not in trusted)
        except weights.CorruptWeights as exc:
            st.error(text.markdown(str(exc)))
            left, right = st.columns(2)
            if left.button("Download it again", key="redownload"):
                path.unlink(missing_ok=True)
                _download(w)
            if right.button("Use this file anyway", key="trust"):
                st.session_state.trusted_files = trusted | {path.name}
                st.rerun()
    else:
        failure = st.session_state.get("download_failure", {}).get(path.name)
        if failure:
            st.warning(text.markdown(failure))
        st.info(text.markdown(f"The ImageNet weights of {config.name} ({path.name}, {weights.size_mb(w):.0f} MB) "
                              f"are not in {path.parent} yet."))
        if st.button(f"Download {path.name}", key="download", type="primary"):
            _download(w)
    return _untrained(config, device, half)


def _download(w) -> None:
    name = weights.file_name(w)
    bar = st.progress(0.0, text=f"Downloading {name}…")
    try:
        weights.download(w, progress=lambda p: bar.progress(p.fraction or 0.0, text=f"{name}: {p.text()}"))
    except weights.WeightsError as exc:
        bar.empty()
        failures = st.session_state.setdefault("download_failure", {})
        failures[name] = f"The download failed: {exc}. Carrying on with untrained weights."
    else:
        st.session_state.get("download_failure", {}).pop(name, None)
    st.rerun()


def _untrained(config: configs.Config, device: str, half: bool) -> LoadedModel:
    return _load_model(config.name, "random", device, half, True)


def _checkpoint_model(device: str, half: bool) -> LoadedModel | None:
    ckpt = st.sidebar.file_uploader("Checkpoint (.pth, .pt)", type=["pth", "pt", "bin", "ckpt"], key="ckpt",
                                    max_upload_size=CHECKPOINT_MB)
    classes = st.sidebar.file_uploader("class_indices.json (optional)", type=["json"], key="classes")
    if ckpt is None:
        st.info("Upload a checkpoint in the sidebar: a state_dict, e.g. vgg16Net.pth from the lecture's train.py, "
                "optionally with its class_indices.json.")
        return None
    data = ckpt.getvalue()
    digests = st.session_state.setdefault("digests", {})
    if ckpt.file_id not in digests:
        digests[ckpt.file_id] = hashlib.sha256(data).hexdigest()
    class_bytes = classes.getvalue() if classes is not None else None
    key = digests[ckpt.file_id] + (":" + hashlib.sha256(class_bytes).hexdigest() if class_bytes else "")
    try:
        return _load_model("checkpoint", "checkpoint", device, half, True, key, data, ckpt.name, class_bytes)
    except CheckpointError as exc:
        st.error(text.markdown(str(exc)))
        return None


def model_and_photo() -> tuple[LoadedModel, Result, tuple]:
    """The sidebar's configuration, weights and photo, the shared model and the cached forward pass over the
    photo, with the model's banner shown; stops the page (after saying what is missing) without either.
    Returns the model, the result and the result's cache key."""
    lm = model_picker(ui.config_selector())
    with st.sidebar:
        picked = ui.photo_picker()
    if lm is None or picked is None:
        st.stop()
    photo, photo_key = picked
    result_key = (model_key(lm), photo_key, lm.preprocess)
    result = forward(lm, *result_key[:2], photo, lm.preprocess)
    model_banner(lm)
    return lm, result, result_key


def model_banner(lm: LoadedModel) -> None:
    """What every result must say about the model: untrained weights, device fallbacks."""
    if not lm.trained:
        st.warning("**Untrained weights**: random initialisation, so these results show the architecture, "
                   "not what a trained VGG has learned.", icon=":material/warning:")
    for notice in lm.notices:
        st.info(text.markdown(notice[0].upper() + notice[1:] + "."))


@st.cache_resource(max_entries=8, ttl=1800)
def forward(_lm: LoadedModel, model_key: tuple, photo_key: str, _photo: Image.Image, preprocess: str) -> Result:
    """One forward pass per (model, photo, preprocessing), shared and never copied: display-only
    widgets re-render from it without recomputing. Treat the result as read-only."""
    try:
        return run(_lm, _photo, preprocess)
    finally:  # the pass's freed activations lie between the cached maps: hand them back
        memory.release_free_memory()


def model_key(lm: LoadedModel) -> tuple:
    return (lm.config.name, lm.weights, str(lm.device), str(lm.dtype), id(lm))


@st.cache_resource(max_entries=64, ttl=1800, show_spinner=False)
def layer_grid(_result: Result, result_key: tuple, layer: str, relu: bool, shared: bool,
               channels: tuple[int, ...]):
    """One layer's tiled grid as PNG bytes, cached per display choice: switching back and forth recomputes
    nothing. ``result_key`` identifies ``_result``: the key of ``forward``'s cache entry. Immutable bytes
    (and the read-only figures below) are shared by every session: cache_resource hands them out without
    the copy that cache_data makes on every call."""
    maps = _result.features[layer][list(channels)]
    return render.png(render.tile(maps, shared=shared, max_width=render.DISPLAY_WIDTH, relu=relu))


@st.cache_resource(max_entries=64, ttl=1800, show_spinner=False)
def channel_view(_result: Result, result_key: tuple, layer: str, channel: int, relu: bool,
                 alpha: float) -> tuple[bytes, dict[str, float]]:
    """One channel over the photo as PNG bytes, and its statistics; cached like ``layer_grid``."""
    one = _result.features[layer][channel]
    one = one.clip(min=0) if relu else one
    return render.png(render.overlay(seen(_result, result_key), one, alpha)), render.stats(one)


@st.cache_resource(max_entries=16, ttl=1800, show_spinner=False)
def seen(_result: Result, result_key: tuple) -> np.ndarray:
    """The photo as the model saw it (RGB uint8), once per result. Read-only."""
    return model_view(_result)


@st.cache_resource(max_entries=16, ttl=1800, show_spinner=False)
def seen_png(_result: Result, result_key: tuple) -> bytes:
    return render.png(seen(_result, result_key))


@st.cache_resource(max_entries=16, ttl=1800, show_spinner=False)
def filters_png(_lm: LoadedModel, model_key: tuple) -> bytes:
    return render.png(render.filters_rgb(first_filters(_lm)))


@st.cache_resource(max_entries=64, ttl=1800, show_spinner=False)
def weight_histogram(_lm: LoadedModel, model_key: tuple, layer: str):
    return charts.weight_histogram(layer_weights(_lm, layer), layer)


# --- attributions -------------------------------------------------------------------------------

def _bar(text: str):
    bar = st.progress(0.0, text=text)
    return bar, (lambda f: bar.progress(f, text=f"{text} {f:.0%}"))


@st.cache_resource(max_entries=32, ttl=1800, show_spinner=False)
def attribution(_lm: LoadedModel, _result: Result, result_key: tuple, params: Params | CamParams):
    """One attribution per (model, photo, preprocessing, method parameters, target): changing only the
    display recomputes nothing. Shows a progress bar while it computes. Treat the array as read-only."""
    bar, report = _bar(f"{ALL_METHODS[params.method]} on {devices.describe(_lm.device)}…")
    try:
        return attributor(_lm).attribute(input_tensor(_lm, _result), params, report)
    finally:
        bar.empty()
        memory.release_free_memory()


@st.cache_resource(max_entries=16, ttl=1800, show_spinner="Computing the strip…")
def strip(_lm: LoadedModel, _result: Result, result_key: tuple, target: int, layers: tuple[str, ...], method: str):
    try:
        return attributor(_lm).strip(input_tensor(_lm, _result), target, list(layers), method)
    finally:
        memory.release_free_memory()


@st.cache_resource(max_entries=16, ttl=1800, show_spinner=False)
def class_labels(_lm: LoadedModel, _result: Result, result_key: tuple) -> tuple[str, ...]:
    """Every class as "name (index, probability)" for a searchable selectbox, the predicted one marked."""
    predicted = int(np.argmax(_result.probs))
    return tuple(f"{name} ({i}, {p:.1%})" + (" · predicted" if i == predicted else "")
                 for i, (name, p) in enumerate(zip(_lm.classes, _result.probs)))


# The pictures made from an attribution, cached per display choice like ``layer_grid``: moving the sign,
# view or clipping widget re-renders only the picture it changes, and the rest of the page comes from here.
@st.cache_resource(max_entries=64, ttl=1800, show_spinner=False)
def attribution_png(_attr: np.ndarray, _seen: np.ndarray, attr_key: tuple, sign: str, outlier: float,
                    shown: str) -> bytes:
    """The attribution drawn as ``shown`` over ``_seen``, PNG bytes for both the page and the download;
    ``attr_key`` identifies ``_attr`` (its cache key). Raises ValueError for a view that needs one sign."""
    return render.png(view.draw(_attr, _seen, shown, sign, outlier))


@st.cache_resource(max_entries=32, ttl=1800, show_spinner=False)
def strip_pngs(_maps: dict[str, np.ndarray], _seen: np.ndarray, strip_key: tuple, sign: str,
               outlier: float) -> dict[str, bytes]:
    """Every layer of a strip blended over the photo, PNG bytes by layer: one cache lookup per rerun."""
    return {name: render.png(view.draw(m, _seen, "blended_heat_map", sign, outlier)) for name, m in _maps.items()}


@st.cache_resource(max_entries=16, ttl=1800, show_spinner=False)
def colour_bar_png(sign: str) -> bytes:
    return render.png(view.colour_bar(sign))


@st.cache_resource(max_entries=4, ttl=1800, show_spinner=False)
def cascade(_lm: LoadedModel, _result: Result, result_key: tuple, params: Params):
    bar, report = _bar("Randomising the weights from fc8 down to conv1_1…")
    try:
        return cascading_randomisation(_lm, input_tensor(_lm, _result), params, progress=report)
    finally:
        bar.empty()
        memory.release_free_memory()
