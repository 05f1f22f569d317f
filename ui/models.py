"""Streamlit glue for the model pages: weights, device, precision and preprocessing in the sidebar, the
shared model cache, the ImageNet download with a progress bar, and the cached forward pass.

Every cache of results is keyed by CONTENT (``model_key``: configuration, weights digest, device,
dtype), never by object identity, so a model loaded again finds the results it had."""

from __future__ import annotations

import weakref
from collections.abc import Callable

import numpy as np
import streamlit as st
from PIL import Image

import ui
from ui import _keep, language, present, screen
from vggviz import i18n, text
from vggviz.architecture import charts, configs
from vggviz.data_url import data_url
from vggviz.explain import attribution_view as view
from vggviz.explain.attributions import Params, attributor, explain
from vggviz.explain.attributions import cascade as randomised_cascade
from vggviz.explain.cams import CamParams
from vggviz.explain.methods import ALL_METHODS
from vggviz.i18n import N_, _, ngettext
from vggviz.photo import device as devices, lru, memory, model_identity as identity, render
from vggviz.photo import server_checkpoints, tracing, weights
from vggviz.photo.checkpoints import CheckpointError
from vggviz.photo.inference import (
    PREPROCESSING, LoadedModel, Result, first_filters, input_tensor, layer_weights, load_model, model_view, run,
)

WEIGHT_LABELS = {"imagenet": N_("ImageNet (torchvision)"), "checkpoint": N_("Checkpoint file"),
                 "random": N_("Untrained (random)")}
DEVICE_LABELS = {"auto": N_("auto"), "cpu": "CPU", "cuda": "CUDA", "mps": "Apple MPS"}
UPLOAD = ""  # the "upload your own" entry among the server's checkpoint names (no file is called "")
# The ?ckpt= (server_checkpoints.LINK_PARAM) this session's address holds as far as the app knows (written or
# followed): another name there is a link.
_LINKED = "ckpt_linked"

# The shared models. st.cache_resource bounds a cache by entry count only, and two entries (the old
# bound) made three students' choices reload ~0.5 GB on every switch: this LRU (vggviz.photo.lru,
# written by hand for that reason) keeps as many models as fit in the budget.
MODEL_BUDGET_ENV, MODEL_BUDGET_MB = "VGGVIZ_MODEL_CACHE_MB", 2048  # three VGG-19s (548 MB) or three VGG-16s
MODELS: lru.BytesLRU[LoadedModel] = lru.BytesLRU(lru.budget_bytes(MODEL_BUDGET_ENV, MODEL_BUDGET_MB),
                                                 identity.model_bytes)


def _shared_model(key: tuple, load: Callable[[], LoadedModel]) -> LoadedModel | None:
    """The model every session shares under ``key``, loaded (spinner shown) when none holds it, and
    traced before it is shared (``tracing``). A load that failed is remembered for this session, so
    that a bad 500 MB file is not read on every rerun: the message is shown and None returned."""
    failures = st.session_state.setdefault("load_failures", {})
    if key not in failures:
        def loading() -> LoadedModel:
            with st.spinner(_("Loading the model…")):
                return tracing.traced(load())
        try:
            return MODELS.get(key, loading)
        except (CheckpointError, weights.WeightsError) as exc:
            failures[key] = exc
    st.error(text.markdown(str(failures[key])))
    return None


def model_picker(config: configs.Config) -> LoadedModel | None:
    """Sidebar choice of weights, device and precision; returns the shared model, or None with a message."""
    has_imagenet = config.torchvision_name is not None
    options = ["imagenet", "checkpoint", "random"] if has_imagenet else ["random", "checkpoint"]
    _follow_checkpoint_link()
    _keep("weights", options[0])
    if st.session_state.weights not in options:
        st.session_state.weights = options[0]
    source = st.sidebar.radio(_("Weights"), options, key="weights", format_func=lambda w: _(WEIGHT_LABELS[w]))
    if not has_imagenet:
        st.sidebar.caption(_("{config} has no public pretrained weights: untrained, or your checkpoint.",
                             config=config.name))
    dev_choices = devices.available()
    _keep("device", "auto")
    device = st.sidebar.selectbox(_("Device"), dev_choices, key="device", format_func=lambda d: _(DEVICE_LABELS[d]),
                                  help=_("auto: CUDA, then Apple MPS, then the CPU"))
    half = False
    if "cuda" in dev_choices and device in ("auto", "cuda"):
        _keep("half", False)
        half = st.sidebar.toggle(_("Half precision"), key="half",
                                 help=_("float16 on the GPU: faster, slightly different numbers"))

    if source == "checkpoint":
        return _checkpoint_model(device, half)
    _show_checkpoint_in_address(None)
    if source == "random":
        return _untrained(config, device, half)
    return _imagenet_model(config, device, half)


def _imagenet_model(config: configs.Config, device: str, half: bool) -> LoadedModel | None:
    w = weights.imagenet_weights(config)
    path = weights.cached_path(w)
    trusted = st.session_state.get("trusted_files", set())
    if path.is_file():
        key, lm = _local_imagenet(config, path, device, half)
        if lm is not None:
            return lm
        if isinstance(st.session_state.load_failures[key], weights.CorruptWeights):
            left, right = st.columns(2)
            if left.button(_("Download it again"), key="redownload"):
                path.unlink(missing_ok=True)
                _download(w)
            if right.button(_("Use this file anyway"), key="trust"):
                st.session_state.trusted_files = trusted | {path.name}
                st.rerun()
    else:
        failure = st.session_state.get("download_failure", {}).get(path.name)
        if failure is not None:  # the error itself: its text is made in the language shown now
            st.warning(text.markdown(_("The download failed: {error}. Carrying on with untrained weights.",
                                       error=failure)))
        st.info(text.markdown(_("The ImageNet weights of {config} ({file}, {mb:.0f} MB) are not in {folder} yet.",
                                config=config.name, file=path.name, mb=weights.size_mb(w), folder=path.parent)))
        if st.button(_("Download {file}", file=path.name), key="download", type="primary"):
            _download(w)
    return _untrained(config, device, half)


def _local_imagenet(config: configs.Config, path, device: str, half: bool) -> tuple[tuple, LoadedModel | None]:
    """The shared model of ImageNet's weights in ``path`` (a file that is there), and its cache key."""
    check = path.name not in st.session_state.get("trusted_files", set())
    stat = path.stat()  # a file downloaded again or replaced is another model
    key = ("imagenet", config.name, str(path), stat.st_size, stat.st_mtime_ns, check, device, half)
    return key, _shared_model(key, lambda: identity.identify(
        load_model(config.name, "imagenet", device=device, half=half, check_hash=check),
        identity.of_imagenet_file(path, verified=check)))


def other_weights(config: configs.Config) -> dict[str, LoadedModel]:
    """The models of ``config`` a page can show beside the sidebar's without asking: untrained weights, and
    ImageNet's where their file is already here (never a download), on the sidebar's device and precision."""
    device, half = st.session_state.get("device", "auto"), bool(st.session_state.get("half", False))
    out = {"random": _untrained(config, device, half)}
    if config.torchvision_name is not None:
        path = weights.cached_path(weights.imagenet_weights(config))
        if path.is_file():
            lm = _local_imagenet(config, path, device, half)[1]
            if lm is not None:
                out = {"imagenet": lm, **out}
    return out


def _download(w) -> None:
    name = weights.file_name(w)
    bar = st.progress(0.0, text=_("Downloading {file}…", file=name))
    try:
        weights.download(w, progress=lambda p: bar.progress(p.fraction or 0.0, text=f"{name}: {p.text()}"))
    except weights.WeightsError as exc:
        bar.empty()
        st.session_state.setdefault("download_failure", {})[name] = exc
    else:
        st.session_state.get("download_failure", {}).pop(name, None)
    st.rerun()


def _untrained(config: configs.Config, device: str, half: bool) -> LoadedModel:
    return _shared_model(("random", config.name, device, half), lambda: identity.identify(
        load_model(config.name, "random", device=device, half=half), identity.UNTRAINED))


def _follow_checkpoint_link() -> None:
    """A link's ?ckpt=NAME (the Train page's, a reload, a QR code) chooses the server checkpoint NAME, when the address
    names another checkpoint than the one this session wrote there or followed: a widget's rerun still carries the
    old address, which must not undo the student's new choice. A name the folder lacks is said, and its first
    checkpoint chosen."""
    linked = st.query_params.get(server_checkpoints.LINK_PARAM)
    if not linked or linked == st.session_state.get(_LINKED):
        return
    st.session_state[_LINKED] = linked
    names = [c.name for c in server_checkpoints.listing()]
    if linked not in names:
        st.warning(_("{file} is not in the server's checkpoint folder.", file=text.markdown(linked)))
    ui.choose("weights", "checkpoint")
    ui.choose("ckpt_choice", linked if linked in names else [*names, UPLOAD][0])


def _show_checkpoint_in_address(name: str | None) -> None:
    """The page's address names the server checkpoint chosen (?ckpt=), or none."""
    if name:
        st.session_state[_LINKED] = name
        if st.query_params.get(server_checkpoints.LINK_PARAM) != name:
            st.query_params[server_checkpoints.LINK_PARAM] = name
    else:
        st.session_state.pop(_LINKED, None)
        if server_checkpoints.LINK_PARAM in st.query_params:
            del st.query_params[server_checkpoints.LINK_PARAM]


def _checkpoint_model(device: str, half: bool) -> LoadedModel | None:
    on_server = server_checkpoints.listing()
    names = [c.name for c in on_server] + [UPLOAD]
    if st.session_state.get("ckpt_choice") not in names:  # first visit, or the file was taken away
        st.session_state.ckpt_choice = names[0]
    choice = UPLOAD
    if on_server:
        choice = st.sidebar.selectbox(
            _("Checkpoint"), names, key="ckpt_choice", format_func=lambda n: n or _("Upload your own…"),
            help=_("The checkpoints in the server's folder, or one of yours."))
    _show_checkpoint_in_address(choice)
    if choice != UPLOAD:
        found = server_checkpoints.find(choice)  # listed again: only a file that is there now
        if found is None:
            st.warning(_("{file} is no longer in the server's checkpoint folder.", file=text.markdown(choice)))
            return None
        return _server_checkpoint(found, device, half)
    cap = st.config.get_option("server.maxUploadSize")
    ckpt = st.sidebar.file_uploader(
        _("Checkpoint (.pth, .pt)"), type=["pth", "pt", "bin", "ckpt"], key="ckpt",
        help=_("Up to {mb} MB here (a VGG checkpoint is about 500 MB). Larger files: put them in the server's "
               "checkpoint folder ({variable}, default checkpoints/ beside app.py), or on your own machine raise "
               "the cap: streamlit run app.py --server.maxUploadSize 1000, or maxUploadSize under [server] in "
               ".streamlit/config.toml.", mb=cap, variable=server_checkpoints.ENV))
    classes = st.sidebar.file_uploader(_("class_indices.json (optional)"), type=["json"], key="classes")
    if ckpt is None:
        st.info(_("Upload a checkpoint in the sidebar: a state_dict, e.g. vgg16Net.pth from the lecture's train.py, "
                  "optionally with its class_indices.json."))
        return None
    digests = st.session_state.setdefault("digests", {})  # read and hashed once per uploaded file
    for upload in (ckpt, classes):
        if upload is not None and upload.file_id not in digests:
            digests[upload.file_id] = identity.of_bytes(upload.getvalue())
    digest = identity.with_classes(digests[ckpt.file_id], digests[classes.file_id] if classes else None)
    return _shared_model(("checkpoint", digest, device, half), lambda: identity.identify(
        load_model("checkpoint", "checkpoint", checkpoint=ckpt.getvalue(), checkpoint_name=ckpt.name,
                   classes=classes.getvalue() if classes else None, device=device, half=half), digest))


def _server_checkpoint(ckpt: server_checkpoints.ServerCheckpoint, device: str, half: bool) -> LoadedModel | None:
    def load() -> LoadedModel:
        lm = load_model("checkpoint", "checkpoint", checkpoint=ckpt.path, checkpoint_name=ckpt.name,
                        classes=ckpt.classes, device=device, half=half)
        classes = identity.of_file(ckpt.classes) if ckpt.classes else None
        return identity.identify(lm, identity.with_classes(identity.of_file(ckpt.path), classes))

    if ckpt.classes is not None:
        st.sidebar.caption(_("Class names from {file}.", file=text.markdown(ckpt.classes.name)))
    return _shared_model(("server", str(ckpt.path), ckpt.stamp, device, half), load)


def preprocess_selector(lm: LoadedModel) -> str:
    """The preprocessing of the photo, in the sidebar: by default the one guessed from the weights (the
    lecture's for a checkpoint trained with its code, else ImageNet's); a change is kept for that model."""
    options = list(PREPROCESSING)
    model = model_key(lm)
    chosen = st.session_state.setdefault("preprocess_chosen", {})  # model key -> the user's choice
    # A keyed radio ignores its default after the first run: follow the model explicitly.
    if st.session_state.get("preprocess_for") != model or st.session_state.get("preprocess") not in options:
        st.session_state.preprocess = chosen.get(model, lm.preprocess)
        st.session_state.preprocess_for = model
    guessed = _(PREPROCESSING[lm.preprocess])
    value = st.sidebar.radio(_("Preprocessing"), options, key="preprocess", format_func=lambda k: _(PREPROCESSING[k]),
                             help=_("Guessed from these weights: {guessed}. Another choice recomputes the results.",
                                    guessed=guessed))
    if value == lm.preprocess:
        chosen.pop(model, None)
    else:
        chosen[model] = value
    st.sidebar.caption(_("Guessed from these weights: {guessed}.", guessed=guessed))
    return value


def model_and_photo() -> tuple[LoadedModel, Result, tuple]:
    """The sidebar's configuration, weights, photo and preprocessing, the shared model and the cached forward
    pass over the photo, with the model's banner shown; stops the page (after saying what is missing)
    without a model or a photo. Returns the model, the result and the result's cache key."""
    lm = model_picker(ui.config_selector())
    with st.sidebar:
        picked = ui.photo_picker()
    preprocess = preprocess_selector(lm) if lm is not None else None
    if lm is None or picked is None:
        st.stop()
    photo, photo_key = picked
    result_key = (model_key(lm), photo_key, preprocess)
    result = forward(lm, *result_key[:2], photo, preprocess)
    model_banner(lm)
    return lm, result, result_key


def _sentence(message: object) -> str:
    said = str(message)
    said = said[:1].upper() + said[1:]
    return said if said.endswith((".", "。", "!", "！", "?", "？")) else said + "."


def model_banner(lm: LoadedModel) -> None:
    """What every result must say about the model: untrained weights, device fallbacks."""
    if not lm.trained:
        st.warning(_("**Untrained weights**: random initialisation, so these results show the architecture, "
                     "not what a trained VGG has learned."), icon=":material/warning:")
    for notice in lm.notices:
        st.info(text.markdown(_sentence(notice)))


def forward(lm: LoadedModel, model_key: tuple, photo_key: str, photo: Image.Image, preprocess: str,
            features: bool = True) -> Result:
    """One forward pass per (model content, photo, preprocessing), shared and never copied: display-only
    widgets re-render from it without recomputing. Treat the result as read-only. ``features=False``: the
    probabilities only (Predict), a few kB per photo instead of every conv map (~25 MB at 224×224 for D),
    so that a class's photos all stay cached (``python -m bench --only server``, server_class_memory)."""
    cached = _forward if features else _prediction
    return cached(lm, model_key, photo_key, photo, preprocess)


def _run(lm: LoadedModel, photo: Image.Image, preprocess: str, features: bool) -> Result:
    """The pass itself, on a cache miss only, with a spinner (shown after half a second), as Streamlit's caches
    show theirs: a spinner around a cached call starts a thread even when the result is there, a thirtieth of a
    new student's visit to Predict (python -m bench --only first_visit)."""
    try:
        with st.spinner(_("Running the photo through the model…")), tracing.MODULES.shared():
            return run(lm, photo, preprocess, features=features)
    finally:  # the pass's freed activations lie between the cached maps: hand them back (predictions: the
        # batcher does it after a burst, not between its passes: a trim locks every malloc arena)
        if features:
            memory.release_free_memory()


@st.cache_resource(max_entries=8, ttl=1800, show_spinner=False)
def _forward(_lm: LoadedModel, model_key: tuple, photo_key: str, _photo: Image.Image, preprocess: str) -> Result:
    return _run(_lm, _photo, preprocess, features=True)


@st.cache_resource(max_entries=256, ttl=1800, show_spinner=False)
def _prediction(_lm: LoadedModel, model_key: tuple, photo_key: str, _photo: Image.Image, preprocess: str) -> Result:
    return _run(_lm, _photo, preprocess, features=False)


def model_key(lm: LoadedModel) -> tuple:
    """What identifies the model's numbers: configuration, weights digest, device, dtype."""
    return identity.content_key(lm)


@st.cache_resource(max_entries=64, ttl=1800, show_spinner=False)
def layer_grid(_result: Result, result_key: tuple, layer: str, relu: bool, shared: bool,
               channels: tuple[int, ...], width: int = render.DISPLAY_WIDTH):
    """One layer's tiled grid as PNG bytes at most ``width`` wide (``screen.picture_width``: a phone's is
    smaller), cached per display choice: switching back and forth recomputes nothing. ``result_key`` identifies
    ``_result``: the key of ``forward``'s cache entry. Immutable bytes (and the read-only figures below) are
    shared by every session: cache_resource hands them out without the copy that cache_data makes on every call."""
    maps = _result.features[layer][list(channels)]
    return render.png(render.tile(maps, shared=shared, max_width=width, relu=relu), max_width=width)


@st.fragment
def layer_grid_section(result: weakref.ref, result_key: tuple, layer: str, relu: bool, channels: tuple[int, ...],
                       sizes: dict, ordered: bool) -> None:
    """The layer's grid under its colour scale. A fragment: changing the scale reruns this alone, not the page
    (server CPU per change: python -m bench --only server). Streamlit keeps a fragment's arguments until the
    session's next full run, so the result is held weakly: an idle session does not keep its maps alive after
    the shared cache dropped them (then the page runs again, recomputing them)."""
    language.restore()  # a fragment's rerun does not pass through app.py, which sets the language
    held = result()
    if held is None:
        st.rerun(scope="app")
    scale = st.radio(_("Colour scale"), render.SCALES, key="fm_scale", horizontal=True, format_func=_)
    grid = layer_grid(held, result_key, layer, relu, scale == render.SCALES[1], channels, screen.picture_width())
    st.image(grid, output_format="PNG", width="stretch",
             caption=_("{layer}: {shown} of {total} channels, {h}×{w} each, ordered by mean activation", **sizes)
             if ordered else _("{layer}: {shown} of {total} channels, {h}×{w} each", **sizes))


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


@st.cache_resource(max_entries=256, ttl=1800, show_spinner=False)
def seen_jpeg_url(_result: Result, result_key: tuple) -> str:
    """``seen`` as Predict shows it for every upload (as many entries as predictions): a JPEG in a data URL,
    which Streamlit sends as it is, inside the element. Bytes would be hashed and registered as a media file at
    every run, a 25th of a new student's visit (python -m bench --only first_visit)."""
    return data_url(render.jpeg(seen(_result, result_key)), "image/jpeg")


def predictions(lm: LoadedModel, result: Result, result_key: tuple, k: int) -> None:
    """Predict's results beside the photo: what must be said about the model, the chart of the ``k`` most likely
    classes and the pass's time. Drawn once per result, k, language, projector mode and the model's notices (a
    device it fell back from, memory it ran out of); every later session (a class opening the same photo) gets
    the same elements replayed by Streamlit's cache, without Plotly building, validating and serialising the
    chart again."""
    _predictions(lm, result, result_key, k, i18n.language(), present.active(), tuple(map(str, lm.notices)))


@st.cache_resource(max_entries=256, ttl=1800, show_spinner=False)
def _predictions(_lm: LoadedModel, _result: Result, result_key: tuple, k: int, lang: str,
                 projector_mode: bool, notices: tuple[str, ...]) -> None:
    model_banner(_lm)
    st.plotly_chart(present.chart(charts.topk_chart(_result.top(_lm.classes, k))), key="topk_chart")
    model, ms = text.markdown(str(_lm.describe())), _result.seconds * 1000
    st.caption(_("{model} · forward pass: {ms:.0f} ms", model=model, ms=ms) if _result.batch == 1 else
               ngettext("{model} · {ms:.0f} ms: computed in one forward pass with {n} other photo",
                        "{model} · {ms:.0f} ms: computed in one forward pass with {n} other photos",
                        _result.batch - 1, model=model, ms=ms))


@st.cache_resource(max_entries=16, ttl=1800, show_spinner=False)
def filters_png(_lm: LoadedModel, model_key: tuple) -> bytes:
    return render.png(render.filters_rgb(first_filters(_lm)))


def weight_histogram(lm: LoadedModel, model_key: tuple, layer: str):
    """A layer's weight histogram (a read-only Plotly figure) with its titles in the reader's language."""
    return _weight_histogram(lm, model_key, layer, i18n.language())


@st.cache_resource(max_entries=64, ttl=1800, show_spinner=False)
def _weight_histogram(_lm: LoadedModel, model_key: tuple, layer: str, lang: str):
    return charts.weight_histogram(layer_weights(_lm, layer), layer)


# --- attributions -------------------------------------------------------------------------------

def _bar(label: str):
    bar = st.progress(0.0, text=label)
    return bar, (lambda f: bar.progress(f, text=f"{label} {f:.0%}"))


@st.cache_resource(max_entries=32, ttl=1800, show_spinner=False)
def attribution(_lm: LoadedModel, _result: Result, result_key: tuple, params: Params | CamParams):
    """One attribution per (model, photo, preprocessing, method parameters, target): changing only the
    display recomputes nothing. Shows a progress bar while it computes. Treat the array as read-only."""
    bar, report = _bar(_("{method} on {device}…", method=_(ALL_METHODS[params.method]),
                         device=devices.describe(_lm.device)))
    try:
        with tracing.MODULES.shared():
            return explain(_lm, _result, params, report)  # the result's preprocessing reaches the baselines
    finally:
        bar.empty()
        memory.release_free_memory()


def strip(lm: LoadedModel, result: Result, result_key: tuple, target: int, layers: tuple[str, ...], method: str):
    """A layer method at several conv layers (cached); a spinner while it computes (shown after half a
    second, so a cached strip does not flash one)."""
    with st.spinner(_("Computing the strip…")):
        return _strip(lm, result, result_key, target, layers, method)


@st.cache_resource(max_entries=16, ttl=1800, show_spinner=False)
def _strip(_lm: LoadedModel, _result: Result, result_key: tuple, target: int, layers: tuple[str, ...], method: str):
    try:
        with tracing.MODULES.shared():
            return attributor(_lm).strip(input_tensor(_lm, _result), target, list(layers), method)
    finally:
        memory.release_free_memory()


def class_labels(lm: LoadedModel, result: Result, result_key: tuple) -> tuple[str, ...]:
    """Every class as "name (index, probability)" for a searchable selectbox, the predicted one marked in the
    reader's language."""
    return _class_labels(lm, result, result_key, i18n.language())


@st.cache_resource(max_entries=16, ttl=1800, show_spinner=False)
def _class_labels(_lm: LoadedModel, _result: Result, result_key: tuple, lang: str) -> tuple[str, ...]:
    predicted = int(np.argmax(_result.probs))
    return tuple(_("{name} ({index}, {p:.1%}) · predicted", name=name, index=i, p=p) if i == predicted
                 else f"{name} ({i}, {p:.1%})" for i, (name, p) in enumerate(zip(_lm.classes, _result.probs)))


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
    bar, report = _bar(_("Randomising the weights from fc8 down to conv1_1…"))
    try:
        with tracing.MODULES.shared():
            return randomised_cascade(_lm, _result, params, progress=report)
    finally:
        bar.empty()
        memory.release_free_memory()
