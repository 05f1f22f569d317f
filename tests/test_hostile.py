"""Hostile uploads and checkpoints, generated here (nothing is downloaded): each gets a clear message in
the engine, the command line and the app, no traceback, bounded memory, and the app keeps serving.
The engine's and the command line's messages are checked in English and in Chinese; the app's in English
(its pages speak the session's language through app.py's navigation, which the pages' own tests drive).
Every case lands in the run's table (artifacts/hostile-cases.md), with its message in both languages."""

import io
import json
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

import report
from helpers import cli_in_process, encode, photo, plain
from vggviz import i18n
from vggviz.photo import images

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def in_both(make) -> tuple[str, str]:
    """``make()``'s text in English and in Chinese."""
    with i18n.use("en"):
        english = str(make())
    with i18n.use("zh"):
        chinese = str(make())
    return english, chinese


def one_sentence_each(name: str, english: str, chinese: str) -> None:
    """The same refusal in two languages: each names the file on one line; the Chinese one is Chinese."""
    for message in (english, chinese):
        assert name in message and "\n" not in message, message
    assert chinese != english and CHINESE.search(chinese) and not CHINESE.search(english), (english, chinese)


def _frames(fmt: str) -> bytes:
    frames = [Image.new("RGB", (40, 30), c) for c in ("red", "green", "blue")]
    buf = io.BytesIO()
    frames[0].save(buf, fmt, save_all=True, append_images=frames[1:])
    return buf.getvalue()


def _exif_rotated() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 8
    return encode(photo(1, (60, 40)), "JPEG", exif=exif.tobytes())


HOSTILE_IMAGES = {  # name -> (bytes, refused?)
    "zero bytes.jpg": (lambda: b"", True),
    "text renamed.jpg": (lambda: b"Dear teacher, this is not a photo.\n" * 20, True),
    "truncated.jpg": (lambda: encode(photo(2), "JPEG")[:2000], True),
    "truncated.png": (lambda: encode(photo(2), "PNG")[:1500], True),
    "bomb 30000x30000.png": (lambda: encode(Image.new("1", (30000, 30000)), "PNG"), True),
    "1x1.png": (lambda: encode(Image.new("RGB", (1, 1), "red"), "PNG"), True),
    "10x10000.png": (lambda: encode(Image.new("RGB", (10, 10000)), "PNG"), True),
    "svg.jpg": (lambda: b"<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'/>", True),
    "oversize.jpg": (lambda: b"\xff\xd8" + b"\0" * (images.MAX_BYTES + 10), True),
    "16-bit.png": (lambda: encode(Image.fromarray(np.arange(64 * 48, dtype=np.uint16).reshape(48, 64) * 20)), False),
    "cmyk.jpg": (lambda: encode(photo(3).convert("CMYK"), "JPEG"), False),
    "palette transparent.png": (lambda: encode(photo(4).convert("P"), "PNG", transparency=3), False),
    "la.png": (lambda: encode(photo(5).convert("LA"), "PNG"), False),
    "exif rotated.jpg": (_exif_rotated, False),
    "animated.gif": (lambda: _frames("GIF"), False),
    "multipage.tif": (lambda: _frames("TIFF"), False),
}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    for name, (make, _) in HOSTILE_IMAGES.items():
        (folder / name).write_bytes(make())
    return folder


@pytest.mark.parametrize("name", list(HOSTILE_IMAGES))
def test_engine_decodes_or_refuses_with_one_sentence(files, name):
    refused = HOSTILE_IMAGES[name][1]
    with report.measured("image (engine)", name) as row:
        try:
            im = images.decode_image((files / name).read_bytes(), name)
            row["outcome"], row["message"] = "accepted", f"{im.size[0]}×{im.size[1]} RGB"
        except images.ImageError as exc:
            row["outcome"] = "refused"
            row["message"], row["message_zh"] = in_both(lambda: exc)
    assert (row["outcome"] == "refused") == refused, row
    if refused:
        one_sentence_each(name, row["message"], row["message_zh"])
    assert row["peak_mb"] < 200  # the bomb is refused before it is decoded


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_cli_names_each_bad_image_and_processes_the_rest(files, lang):
    """One line per refused file, exactly the engine's sentence in the chosen language; the rest predicted."""
    names = list(HOSTILE_IMAGES)
    with report.measured(f"image (CLI, {lang})", f"predict with all {len(names)} files") as row:
        out = subprocess.run([sys.executable, "-m", "vggviz", "--lang", lang, "predict",
                              *[str(files / n) for n in names], "--config", "A", "--weights", "random",
                              "--format", "json"], capture_output=True, text=True, timeout=300, cwd=ROOT)
        row["outcome"] = f"exit {out.returncode}"
        row["message"] = f"{len(out.stderr.splitlines())} stderr lines, {len(json.loads(out.stdout))} results"
    assert out.returncode == 2 and "Traceback" not in out.stderr
    done = {pathlib.Path(r["image"]).name for r in json.loads(out.stdout)}
    assert done == {n for n, (_, refused) in HOSTILE_IMAGES.items() if not refused}
    lines = out.stderr.splitlines()
    with i18n.use(lang):
        assert any(line == f"vggviz: {i18n._('untrained weights: these predictions mean nothing')}" for line in lines)
        for n, (_, refused) in HOSTILE_IMAGES.items():
            if refused:
                with pytest.raises(images.ImageError) as err:
                    images.load_image(files / n)
                assert [line for line in lines if n in line] == [f"vggviz: {err.value}"], n


@pytest.fixture(scope="module")
def app():
    """One predict page session that receives every upload in turn, like one student's phone."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "pages" / "predict.py"), default_timeout=120)
    at.session_state["config"], at.session_state["weights"] = "A", "random"
    at.run()
    at.radio(key="photo_source").set_value("Upload").run()
    return at


@pytest.mark.parametrize("name", list(HOSTILE_IMAGES))
def test_app_shows_a_clear_message_and_keeps_serving(app, files, name):
    refused = HOSTILE_IMAGES[name][1]
    with report.measured("image (app)", name) as row:
        app.file_uploader(key="photo_upload").set_value((name, (files / name).read_bytes(), "image/jpeg")).run()
        errors = [plain(e.value) for e in app.error]
        row["outcome"] = "refused" if errors else "predicted"
        row["message"] = errors[0] if errors else plain(app.caption[0].value)
    assert not app.exception, [e.value for e in app.exception]
    assert bool(errors) == refused and (not refused or name in errors[0])
    app.radio(key="photo_source").set_value("Sample").run()  # the session still works afterwards
    assert not app.exception and not app.error and "untrained weights" in plain(app.caption[0].value)
    app.radio(key="photo_source").set_value("Upload").run()


# --- checkpoints ------------------------------------------------------------------------------------

class Payload:
    """Unpickling this would write a marker file: proof that code ran."""

    marker = ""

    def __reduce__(self):
        return (pathlib.Path.write_text, (pathlib.Path(self.marker), "pwned"))


def _checkpoints(folder: pathlib.Path) -> dict[str, tuple[pathlib.Path, str]]:
    from vggviz.architecture.model import build_model

    good = build_model("A", num_classes=3, seed=0).state_dict()
    out = {}

    def save(name, obj, words):
        torch.save(obj, folder / name)
        out[name] = (folder / name, words)

    payload = Payload()
    payload.marker = str(folder / "pwned.txt")
    save("code.pth", {"features.0.weight": payload}, "refused")
    save("wrong shapes.pth", {**good, "features.3.weight": torch.zeros(128, 64, 5, 5)}, "expected [128, 64, 3, 3]")
    save("missing keys.pth", {k: v for k, v in good.items() if not k.startswith("features.0.")},
         "missing features.0.weight")
    save("extra keys.pth", {**good, "head.extra": torch.zeros(2)}, "unexpected head.extra")
    save("non-tensors.pth", {"features.0.weight": [1, 2, 3], "lr": 0.1}, "not tensors")
    torch.save(good, folder / "whole.pth")
    (folder / "truncated.pth").write_bytes((folder / "whole.pth").read_bytes()[:100_000])
    out["truncated.pth"] = (folder / "truncated.pth", "not a readable PyTorch checkpoint")
    (folder / "not a checkpoint.pth").write_bytes(encode(photo(0), "PNG"))
    out["not a checkpoint.pth"] = (folder / "not a checkpoint.pth", "not a readable PyTorch checkpoint")
    return out


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    return _checkpoints(tmp_path_factory.mktemp("ckpt"))


def test_hostile_checkpoints_are_refused_with_the_problem_named(checkpoints):
    from vggviz.photo.checkpoints import CheckpointError, infer_architecture, read_checkpoint

    for name, (path, words) in checkpoints.items():
        with report.measured("checkpoint (engine)", name) as row:
            with pytest.raises(CheckpointError) as err:
                infer_architecture(read_checkpoint(path), name)
            row["outcome"] = "refused"
            row["message"], row["message_zh"] = in_both(lambda: err.value)
        assert words in row["message"], row
        one_sentence_each(name, row["message"], row["message_zh"])
    assert not (path.parent / "pwned.txt").exists()  # the payload never ran


def test_hostile_checkpoints_in_the_cli(checkpoints, files):
    """English through a real ``python -m vggviz`` process per checkpoint; Chinese through the same ``main``
    in this process. Either way one line, exit status 2, the engine's sentence."""
    from vggviz.photo.checkpoints import CheckpointError, infer_architecture, read_checkpoint

    for name, (path, words) in checkpoints.items():
        with pytest.raises(CheckpointError) as err:
            infer_architecture(read_checkpoint(path), name)
        english, chinese = in_both(lambda: err.value)
        with report.measured("checkpoint (CLI)", name) as row:
            out = subprocess.run([sys.executable, "-m", "vggviz", "predict", str(files / "cmyk.jpg"), "--weights",
                                  str(path)], capture_output=True, text=True, timeout=120, cwd=ROOT)
            status, stderr = cli_in_process(["--lang", "zh", "predict", str(files / "cmyk.jpg"), "--weights",
                                              str(path)])
            row["outcome"] = f"exit {out.returncode} / {status}"
            row["message"], row["message_zh"] = out.stderr.strip(), stderr.strip()
        assert out.returncode == 2 and out.stderr == f"vggviz: {english}\n" and words in english, out.stderr
        assert status == 2 and stderr == f"vggviz: {chinese}\n", stderr
    assert not (path.parent / "pwned.txt").exists()


def test_hostile_checkpoints_in_the_app(checkpoints):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "pages" / "predict.py"), default_timeout=120)
    at.session_state["weights"] = "checkpoint"
    at.run()
    for name, (path, words) in checkpoints.items():
        with report.measured("checkpoint (app)", name) as row:
            at.sidebar.file_uploader(key="ckpt").set_value((name, path.read_bytes(), "application/octet-stream")).run()
            errors = [plain(e.value) for e in at.error]
            row["outcome"], row["message"] = ("refused", errors[0]) if errors else ("?", "")
        assert not at.exception and errors and words in errors[0], (name, errors)
    assert not (path.parent / "pwned.txt").exists()


# --- weight downloads -------------------------------------------------------------------------------

def test_app_download_refused_falls_back_within_10_seconds(tmp_path, monkeypatch):
    import time

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from helpers import free_port

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setenv("VGGVIZ_WEIGHTS_URL", f"http://127.0.0.1:{free_port()}")
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "pages" / "predict.py"), default_timeout=120)
    at.session_state["config"] = "A"
    at.run()
    with report.measured("download (app)", "connection refused") as row:
        start = time.monotonic()
        at.button(key="download").click().run()
        elapsed = time.monotonic() - start
        warnings = [plain(w.value) for w in at.warning]
        row["outcome"] = "fell back to untrained weights"
        row["message"] = next(w for w in warnings if "download failed" in w)
    assert elapsed < 10 and not at.exception
    assert "vgg11-8a719046.pth" in row["message"] and str(tmp_path / "hub" / "checkpoints") in row["message"]
    assert any("Untrained weights" in w for w in warnings)


def test_a_silent_server_times_out(tmp_path):
    import socket
    import time

    from vggviz.photo import weights as wts

    assert wts.TIMEOUT_S <= 10
    with socket.socket() as server:  # accepts the connection, never answers
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        url = f"http://127.0.0.1:{server.getsockname()[1]}/w-00000000.pth"
        with report.measured("download (engine)", "server never answers") as row:
            start = time.monotonic()
            with pytest.raises(wts.WeightsError) as err:
                wts.download_file(url, tmp_path / "w-00000000.pth", "00000000", timeout=1.0)
            row["outcome"] = "refused"
            row["message"], row["message_zh"] = in_both(lambda: err.value)
        assert time.monotonic() - start < 5
    one_sentence_each(url, row["message"], row["message_zh"])
    assert "no answer within 1 s" in row["message"] and "1 秒内没有应答" in row["message_zh"]
    assert list(tmp_path.iterdir()) == []


def test_user_text_is_never_rendered_as_markdown_or_html(tmp_path):
    """A file name and class names crafted as Markdown / HTML show as typed, not as links or markup."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from vggviz.architecture import charts
    from vggviz import text

    evil = "[click](javascript:alert(1)) **bold** <img src=x onerror=alert(1)>"
    assert plain(text.markdown(evil)) == evil and "](" not in text.markdown(evil).replace("\\](", "")
    fig = charts.topk_chart([{"index": 0, "label": evil, "prob": 0.5}])
    assert "<img" not in fig.data[0].y[0] and "&lt;img" in fig.data[0].y[0]
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "pages" / "predict.py"), default_timeout=120)
    at.session_state["config"], at.session_state["weights"] = "A", "random"
    at.run()
    at.radio(key="photo_source").set_value("Upload").run()
    at.file_uploader(key="photo_upload").set_value((evil + ".jpg", b"not an image", "image/jpeg")).run()
    shown = at.error[0].value
    assert "\\[click\\]\\(javascript" in shown and "\\<img" in shown  # escaped in the Markdown source
    assert plain(shown).startswith(evil)
