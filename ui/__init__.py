"""Streamlit glue shared by the pages: the sidebar selections, photos, and cached calls into the engine.

The engine (``vggviz/``) knows nothing of Streamlit; pages call it through here so that every page
shares one cache. This module imports no torch (the architecture pages must not); ``ui.models``
holds the model-side glue.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import streamlit as st
from PIL import Image

from vggviz import text
from vggviz.data_url import data_url
from vggviz.architecture import configs
from vggviz.architecture.layers import Layer, layer_table
from vggviz.i18n import N_, _
from vggviz.photo import images, lru, memory


def _use_app_navigation() -> None:
    # Streamlit decides once per server whether to run app.py (st.navigation) or its legacy
    # multipage mode (pages/ scripts on their own, with a file-name menu): it stays legacy until
    # some session runs app.py. A session that opens on a sub-page URL first would get the legacy
    # menu; flipping the flag and rerunning sends it through app.py's navigation instead.
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


_use_app_navigation()


memory.cap_arenas()  # before any session thread allocates


# The page icon, local (a Material-symbol icon would come from a font CDN, which a classroom network may block) and
# inline: given a file, Streamlit decodes and registers it anew at every script run, a twentieth of a new student's
# visit (python -m bench --only first_visit); the browser then fetches nothing for it.
PAGE_ICON = data_url((Path(__file__).parents[1] / "vggviz" / "assets" / "icon.png").read_bytes(), "image/png")


# The sidebar choices every page shares. Streamlit drops a widget's state on a run that does not draw it,
# and some pages draw none of these (Compare, the glossary): app.py hands them on at the top of every run.
SHARED_CHOICES = ("config", "input_size", "photo_source", "sample", "weights", "device", "half", "preprocess",
                  "ckpt_choice")


# The last value each kept widget had, outside the widgets' own state: Streamlit (1.67) drops the state of the
# widgets outside a fragment when the page changes right after a fragment's run (Predict's photo is one), as
# the language keeps its choice under a key of its own for a run where the widget's state is gone.
_KEPT = "_kept_choices"


def keep_shared_choices() -> None:
    """Re-assign the shared choices this session has made, so that a page without their widgets keeps them."""
    kept = st.session_state.get(_KEPT, {})
    for key in SHARED_CHOICES:
        if key in st.session_state or key in kept:
            _keep(key, None)


def choose(key: str, value: object) -> None:
    """Make ``value`` the shared choice ``key`` (what a link chooses), kept as a widget's own choice is."""
    st.session_state[key] = st.session_state.setdefault(_KEPT, {})[key] = value


def _keep(key: str, default: object) -> None:
    # A widget's state is dropped on a run that does not draw it (another page); re-assigning it
    # first makes the choice survive page switches.
    kept = st.session_state.setdefault(_KEPT, {})
    st.session_state[key] = kept[key] = st.session_state.get(key, kept.get(key, default))


def config_selector() -> configs.Config:
    """The configuration selector in the sidebar; every page shares its value."""
    _keep("config", "D")
    name = st.sidebar.selectbox(
        _("Configuration"), configs.NAMES, key="config", format_func=lambda n: configs.resolve(n).label,
        help=_("Table 1 of Simonyan & Zisserman; -BN adds batch norm after every conv (torchvision's *_bn)."),
    )
    return configs.resolve(name)


def input_size_selector() -> tuple[int, int]:
    """The input-size box in the sidebar; a bad value stops the page with a clear message."""
    _keep("input_size", str(configs.DEFAULT_INPUT))
    typed = st.sidebar.text_input(
        _("Input size"), key="input_size", help=_("N for a square N×N input, or H×W such as 320x240; at least 32."),
    )
    try:
        return configs.parse_input_size(typed)
    except ValueError as exc:
        st.error(text.markdown(_("Input size: {error}.", error=exc)))
        st.stop()


@st.cache_resource(max_entries=64, show_spinner=False)
def cached_layer_table(name: str, input_size: tuple[int, int]) -> tuple[Layer, ...]:
    """One table shared by every session, never copied: its layers are frozen and the tuple cannot change (as
    st.cache_data, a hit unpickled the table again: a tenth of a new student's home-page run)."""
    return tuple(layer_table(name, input_size))


# --- photos -------------------------------------------------------------------------------------

# Decoded photos are shared, never copied: st.cache_data would pickle a 4-megapixel image (12 MB)
# on every rerun, so they are kept by reference like the models (treat them as read-only). Bounded by
# bytes, not by count: a photo decodes to at most 12 MB (images.MAX_SIDE on the long side), most to less.
PHOTO_BUDGET_ENV, PHOTO_BUDGET_MB = "VGGVIZ_PHOTO_CACHE_MB", 512
PHOTOS: lru.BytesLRU[Image.Image] = lru.BytesLRU(
    lru.budget_bytes(PHOTO_BUDGET_ENV, PHOTO_BUDGET_MB), lambda im: im.width * im.height * len(im.getbands()))
SOURCES = (N_("Sample"), N_("Upload"), N_("Take a photo"))


@st.cache_resource(max_entries=len(images.SAMPLES), show_spinner=False)
def sample_photo(name: str) -> Image.Image:
    """A built-in sample, decoded once for every session. Read-only."""
    return images.sample(name)


def decoded(data: bytes, name: str, digest: str) -> Image.Image:
    """An upload decoded once for every session that sends the same bytes (``digest`` is their SHA-256,
    worked out once per upload). Read-only. Raises ImageError."""
    return PHOTOS.get(digest, lambda: images.decode_image(data, name))


def remember(file, slot: str) -> None:
    """Keep a widget's file (an upload or a camera photo) in the session as (name, bytes, SHA-256) under
    ``slot``: the widget forgets it on another page. Read and hashed once per file."""
    if file is not None and st.session_state.get(f"{slot}_id") != file.file_id:
        data = file.getvalue()
        st.session_state[slot] = (file.name, data, hashlib.sha256(data).hexdigest())
        st.session_state[f"{slot}_id"] = file.file_id


def kept_photo(slot: str) -> tuple[Image.Image, str] | None:
    """The photo kept under ``slot``, decoded (and cached) as any upload: the same bytes give the same
    picture and the same key, whether uploaded or taken with the camera. A refusal is shown, not raised."""
    if slot not in st.session_state:
        return None
    name, data, digest = st.session_state[slot]
    try:
        image = decoded(data, name, digest)
    except images.ImageError as exc:
        st.error(text.markdown(str(exc)))
        return None
    return image, f"upload:{digest}"


def photo_picker() -> tuple[Image.Image, str] | None:
    """A sample photo, an upload or a photo taken with the camera, kept across pages; returns (image, a key
    that identifies it)."""
    _keep("photo_source", SOURCES[0])
    _keep("sample", next(iter(images.SAMPLES)))
    source = st.radio(_("Photo"), SOURCES, horizontal=True, key="photo_source", format_func=_)
    if source == SOURCES[0]:
        name = st.selectbox(_("Sample photo"), list(images.SAMPLES), key="sample", format_func=_)
        return sample_photo(name), f"sample:{name}"
    if source == SOURCES[2]:
        shot = st.camera_input(
            _("Take a photo"), key="photo_camera",
            help=_("Browsers allow the camera only over HTTPS or on this computer (localhost)."))
        remember(shot, "camera_photo")
        picked = kept_photo("camera_photo")
        if picked is not None and shot is None:
            st.caption(_("Using the photo taken earlier."))
        return picked
    upload = st.file_uploader(
        _("Your photo (JPEG, PNG, WebP, BMP, GIF, TIFF, HEIC, HEIF; up to {mb} MB)", mb=images.MAX_BYTES // 2**20),
        type=images.UPLOAD_TYPES, key="photo_upload", max_upload_size=images.MAX_BYTES // 2**20,
    )
    remember(upload, "photo")
    picked = kept_photo("photo")
    if picked is not None and upload is None:
        st.caption(_("Using {name}, uploaded earlier.", name=text.markdown(st.session_state.photo[0])))
    return picked
