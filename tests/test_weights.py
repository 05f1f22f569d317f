"""ImageNet weights offline: found in a temporary TORCH_HOME without touching the network, and the
download path against a local HTTP server on 127.0.0.1."""

import hashlib
import os
import pathlib
import socket
import subprocess
import sys
import time

import pytest
import torch

from helpers import cli_in_process, file_server, free_port, install_imagenet_file
from vggviz import i18n
from vggviz.photo import weights as wts

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.delenv(wts.MIRROR_ENV, raising=False)
    return tmp_path


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_enum_metadata_names_the_file_and_folder(torch_home):
    w = wts.imagenet_weights("vgg16")
    assert wts.file_name(w) == "vgg16-397923af.pth"
    assert wts.cached_path(w) == torch_home / "hub" / "checkpoints" / "vgg16-397923af.pth"
    assert wts.hash_prefix("vgg16-397923af.pth") == "397923af"
    with pytest.raises(wts.NoPretrainedWeights, match="A-LRN"):
        wts.imagenet_weights("A-LRN")


def test_cached_file_is_found_and_loaded_without_network(torch_home, no_network):
    from vggviz.photo.inference import load_model

    path = install_imagenet_file(torch_home, "vgg11")
    expected = torch.load(path, weights_only=True)
    lm = load_model("vgg11", "imagenet", check_hash=False)
    assert lm.trained and lm.weights == "imagenet" and len(lm.classes) == 1000
    for key, value in lm.model.state_dict().items():
        assert torch.equal(value, expected[key]), key


def test_a_file_whose_hash_does_not_match_its_name_is_detected(torch_home, no_network):
    from vggviz.photo.inference import load_model

    install_imagenet_file(torch_home, "vgg11")  # generated, so its SHA-256 cannot start with 8a719046
    with pytest.raises(wts.CorruptWeights, match="8a719046"):
        load_model("vgg11", "imagenet")


def test_missing_file_is_reported_not_downloaded(torch_home, no_network):
    with pytest.raises(wts.WeightsError, match="vgg13-19584684.pth is not in"):
        wts.imagenet_state_dict("vgg13")


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_reports_progress_and_renames_only_when_complete(tmp_path):
    body = bytes(range(256)) * 4096 * 3  # 3 MiB, several progress steps
    prefix = hashlib.sha256(body).hexdigest()[:8]
    dest = tmp_path / f"model-{prefix}.pth"
    seen = []

    def progress(p):
        seen.append((p.done, p.total, dest.exists()))

    with file_server({dest.name: body}) as server:
        wts.download_file(f"{server.url}/{dest.name}", dest, prefix, progress)
    assert dest.read_bytes() == body
    assert len(seen) >= 3 and seen[-1][:2] == (len(body), len(body))
    assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen)
    assert not any(exists for *_, exists in seen)  # never visible under its final name before the end
    assert _leftovers(tmp_path) == [dest.name]


def test_hash_mismatch_is_rejected_and_nothing_is_left(tmp_path):
    body = b"not the file you are looking for" * 1000
    dest = tmp_path / "vgg11-8a719046.pth"
    with file_server({dest.name: body}) as server, pytest.raises(wts.CorruptWeights, match="8a719046"):
        wts.download_file(f"{server.url}/{dest.name}", dest, "8a719046")
    assert _leftovers(tmp_path) == []


def test_dropped_connection_leaves_no_file_and_a_retry_works(tmp_path):
    body = b"x" * (2 << 20)
    prefix = hashlib.sha256(body).hexdigest()[:8]
    dest = tmp_path / f"w-{prefix}.pth"
    with file_server({dest.name: body}, drop_after=300_000) as server, pytest.raises(wts.WeightsError):
        wts.download_file(f"{server.url}/{dest.name}", dest, prefix)
    assert _leftovers(tmp_path) == []
    with file_server({dest.name: body}) as server:
        wts.download_file(f"{server.url}/{dest.name}", dest, prefix)
    assert dest.read_bytes() == body


def test_mirror_url_serves_torchvision_file_names(torch_home, monkeypatch):
    w = wts.imagenet_weights("vgg11")
    with file_server({"vgg11-8a719046.pth": b"mirror copy"}) as server:
        monkeypatch.setenv(wts.MIRROR_ENV, server.url + "/models/")
        assert wts.url_for(w) == f"{server.url}/models/vgg11-8a719046.pth"
        with pytest.raises(wts.CorruptWeights):  # served, but not the official bytes
            wts.download(w)
        assert server.requests == ["/models/vgg11-8a719046.pth"]
    assert _leftovers(torch_home / "hub" / "checkpoints") == []


def test_refused_connection_fails_fast_with_the_manual_fallback(torch_home, monkeypatch):
    monkeypatch.setenv(wts.MIRROR_ENV, f"http://127.0.0.1:{free_port()}")
    start = time.monotonic()
    with pytest.raises(wts.WeightsError) as err:
        wts.download(wts.imagenet_weights("vgg11"))
    assert time.monotonic() - start < 10
    message = str(err.value)
    assert "vgg11-8a719046.pth" in message and str(torch_home / "hub" / "checkpoints") in message


FAULTS = {  # what a broken mirror does -> the message's code, English and Chinese words it must hold
    "bad status line": (dict(status_line=b"garbage"), "bad_answer", "not valid HTTP", "不是有效的 HTTP"),
    "empty answer": (dict(status_line=b""), "bad_answer", "not valid HTTP", "不是有效的 HTTP"),
    "chunked body cut short": (dict(chunked=True), "cut_short", "dropped before the end", "中断"),
    "body shorter than announced": (dict(drop_after=1000), "dropped", "dropped after", "中断"),
    "not found": (dict(), "http_status", "HTTP 404", "HTTP 404"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_every_network_fault_is_one_clear_error_and_leaves_no_file(tmp_path, fault):
    kwargs, code, english, chinese = FAULTS[fault]
    body = b"w" * 300_000
    name = "w-00000000.pth" if fault != "not found" else "elsewhere.pth"
    with file_server({name: body}, **kwargs) as server, pytest.raises(wts.WeightsError) as err:
        wts.download_file(f"{server.url}/w-00000000.pth", tmp_path / "w-00000000.pth", "00000000", timeout=5)
    assert err.value.code == code and english in str(err.value) and "\n" not in str(err.value)
    with i18n.use("zh"):
        assert chinese in str(err.value)
    assert _leftovers(tmp_path) == []


def test_cli_download_fault_exits_2_with_one_translated_line(torch_home, monkeypatch):
    """A real ``python -m vggviz download`` in English; the same ``main`` in this process in Chinese."""
    with file_server({}, status_line=b"HTTP/1.1 abc") as server:
        monkeypatch.setenv(wts.MIRROR_ENV, server.url)
        out = subprocess.run([sys.executable, "-m", "vggviz", "--lang", "en", "download", "A"],
                             capture_output=True, text=True, timeout=120, cwd=ROOT, env=dict(os.environ))
        status, stderr = cli_in_process(["--lang", "zh", "download", "A"])
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert out.stderr.count("\n") == 1 and "not valid HTTP" in out.stderr, out.stderr
    assert status == 2 and stderr.count("\n") == 1 and "请手动把 vgg11-8a719046.pth 复制到" in stderr, stderr
    assert _leftovers(torch_home / "hub" / "checkpoints") == []
