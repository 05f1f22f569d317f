"""Streamlit glue shared by the pages: the sidebar selections, photos, and cached calls into the engine.

The engine (``vggviz/``) knows nothing of Streamlit; pages call it through here so that every page
shares one cache. This module imports no torch (the architecture pages must not); ``ui.models``
holds the model-side glue.
"""

from __future__ import annotations

import hashlib

import streamlit as st
from PIL import Image

from vggviz.architecture import configs
from vggviz.photo import images, memory
from vggviz import text
from vggviz.architecture.layers import Layer, layer_table


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


def _keep(key: str, default: object) -> None:
    # A widget's state is dropped on a run that does not draw it (another page); re-assigning it
    # first makes the choice survive page switches.
    st.session_state[key] = st.session_state.get(key, default)


def config_selector() -> configs.Config:
    """The configuration selector in the sidebar; every page shares its value."""
    _keep("config", "D")
    name = st.sidebar.selectbox(
        "Configuration", configs.NAMES, key="config", format_func=lambda n: configs.resolve(n).label,
        help="Table 1 of Simonyan & Zisserman; -BN adds batch norm after every conv (torchvision's *_bn).",
    )
    return configs.resolve(name)


def input_size_selector() -> tuple[int, int]:
    """The input-size box in the sidebar; a bad value stops the page with a clear message."""
    _keep("input_size", str(configs.DEFAULT_INPUT))
    typed = st.sidebar.text_input(
        "Input size", key="input_size", help="N for a square N×N input, or H×W such as 320x240; at least 32.",
    )
    try:
        return configs.parse_input_size(typed)
    except ValueError as exc:
        st.error(text.markdown(f"Input size: {exc}."))
        st.stop()


@st.cache_data(max_entries=64)
def cached_layer_table(name: str, input_size: tuple[int, int]) -> list[Layer]:
    return layer_table(name, input_size)


@st.cache_data(max_entries=8)
def sample_photo(name: str):
    return images.sample(name)


@st.cache_data(max_entries=16, ttl=3600)
def _decode(data: bytes, name: str) -> Image.Image:
    return images.decode_image(data, name)


# --- photos -------------------------------------------------------------------------------------

def photo_picker() -> tuple[Image.Image, str] | None:
    """A sample photo or an upload, kept across pages; returns (image, a key that identifies it)."""
    _keep("photo_source", "Sample")
    _keep("sample", next(iter(images.SAMPLES)))
    source = st.radio("Photo", ["Sample", "Upload"], horizontal=True, key="photo_source")
    if source == "Sample":
        name = st.selectbox("Sample photo", list(images.SAMPLES), key="sample")
        return sample_photo(name), f"sample:{name}"
    upload = st.file_uploader(
        f"Your photo (JPEG, PNG, WebP, BMP, GIF, TIFF; up to {images.MAX_BYTES // 2**20} MB)",
        type=images.UPLOAD_TYPES, key="photo_upload", max_upload_size=images.MAX_BYTES // 2**20,
    )
    if upload is not None:  # the uploader forgets its file on another page; the session keeps it
        st.session_state.photo = (upload.name, upload.getvalue())
    if "photo" not in st.session_state:
        return None
    name, data = st.session_state.photo
    try:
        image = _decode(data, name)
    except images.ImageError as exc:
        st.error(text.markdown(str(exc)))
        return None
    if upload is None:
        st.caption(f"Using {text.markdown(name)}, uploaded earlier.")
    return image, f"upload:{hashlib.sha1(data).hexdigest()}"
