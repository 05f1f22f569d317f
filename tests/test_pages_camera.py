"""Take a photo (st.camera_input): the camera's JPEG goes through the same decoder, caps and caches as an
upload, is kept across pages, and gives the same predictions as the same bytes uploaded."""

import io
import json
import pathlib
import re

import numpy as np
import pytest
import streamlit as st
from PIL import Image
from streamlit.testing.v1 import AppTest

from helpers import encode, photo, plain

import torch  # a hard dependency: a broken install fails, never skips
from torchvision import transforms

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _clear_caches():
    import ui
    from ui import models

    st.cache_resource.clear()
    st.cache_data.clear()
    models.MODELS.clear()
    ui.PHOTOS.clear()


@pytest.fixture(autouse=True)
def fresh(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("VGGVIZ_CHECKPOINTS", str(tmp_path / "no server checkpoints"))
    _clear_caches()
    yield
    _clear_caches()


def predict_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "predict.py"), default_timeout=120)
    at.session_state["config"], at.session_state["weights"] = "A", "random"
    return at.run()


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def top(at: AppTest) -> list[tuple[int, float]]:
    """(class index, probability) of the Top-k chart's bars, best first."""
    bars = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    return [(int(re.search(r"\((\d+)\)$", y).group(1)), x) for x, y in zip(reversed(bars["x"]), reversed(bars["y"]))]


def reference_probs(image: Image.Image) -> np.ndarray:
    """Plain torch and torchvision: the seeded untrained vgg11 ("random" weights), ImageNet preprocessing
    (resize 256, centre crop 224, normalise), on ``image`` as decoded by the test."""
    from vggviz.architecture.model import build_model
    from vggviz.photo.inference import UNTRAINED_SEED

    model = build_model("A", seed=UNTRAINED_SEED).eval()
    prep = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
                              transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
    x = prep(image.convert("RGB")).unsqueeze(0)
    with torch.inference_mode():
        return torch.softmax(model(x), 1)[0].numpy()


def test_a_camera_photo_predicts_as_the_same_bytes_uploaded():
    shot = encode(photo(7, (640, 480)), "JPEG", quality=90)  # what a camera_input hands over: one JPEG
    at = ok(predict_page())
    assert at.radio(key="photo_source").options == ["Sample", "Upload", "Take a photo"]
    at.radio(key="photo_source").set_value("Take a photo").run()
    assert ok(at).camera_input(key="photo_camera").label == "Take a photo"
    assert not at.get("plotly_chart")  # no photo yet: nothing predicted
    at.camera_input(key="photo_camera").set_value(("image.jpg", shot, "image/jpeg")).run()
    from_camera = top(ok(at))

    _clear_caches()  # the upload is decoded and predicted afresh, not read from the camera's cache entries
    up = ok(predict_page())
    up.radio(key="photo_source").set_value("Upload").run()
    up.file_uploader(key="photo_upload").set_value(("image.jpg", shot, "image/jpeg")).run()
    from_upload = top(ok(up))

    probs = reference_probs(Image.open(io.BytesIO(shot)))  # Pillow's own decode
    # Tolerance: the same float32 forward in other processes' thread splits may differ in the last bits.
    assert [i for i, _ in from_camera] == [i for i, _ in from_upload]
    np.testing.assert_allclose([p for _, p in from_camera], [p for _, p in from_upload], rtol=1e-5)
    np.testing.assert_allclose([p for _, p in from_camera], probs[[i for i, _ in from_camera]], rtol=1e-4)
    np.testing.assert_allclose([p for _, p in from_camera], np.sort(probs)[::-1][:len(from_camera)], rtol=1e-4)


def test_the_camera_photo_is_kept_across_pages_and_a_bad_one_is_refused_in_a_sentence():
    shot = encode(photo(8, (320, 240)), "JPEG")
    at = ok(predict_page())
    at.radio(key="photo_source").set_value("Take a photo").run()
    at.camera_input(key="photo_camera").set_value(("image.jpg", shot, "image/jpeg")).run()
    first = top(ok(at))
    at.camera_input(key="photo_camera").set_value(None).run()  # as after visiting another page: widget empty
    assert top(ok(at)) == first and any("taken earlier" in c.value for c in at.caption)
    at.camera_input(key="photo_camera").set_value(("image.jpg", shot[: len(shot) // 3], "image/jpeg")).run()
    assert [plain(e.value) for e in ok(at).error] == ["image.jpg could not be decoded (OSError: truncated or corrupt)"]



def test_an_uploaded_heic_predicts_as_its_decoded_pixels():
    """An iPhone's HEIC through the uploader: accepted by type, decoded by pillow-heif, predicted."""
    import pillow_heif

    heic = encode(photo(9, (320, 240)), "HEIF", quality=90)
    at = ok(predict_page())
    at.radio(key="photo_source").set_value("Upload").run()
    assert {"heic", "heif"} <= {t.lstrip(".") for t in ok(at).file_uploader(key="photo_upload").allowed_type}
    at.file_uploader(key="photo_upload").set_value(("IMG_0001.HEIC", heic, "image/heic")).run()
    bars = top(ok(at))
    # The reference: pillow-heif's own decode, opened directly (not through the app's decoder).
    probs = reference_probs(pillow_heif.open_heif(io.BytesIO(heic)).to_pillow())
    np.testing.assert_allclose([p for _, p in bars], probs[[i for i, _ in bars]], rtol=1e-4)  # float32 forward
