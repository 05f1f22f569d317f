"""The shared caches: models bounded by memory (least recently used dropped first), results keyed by the
model's content (a model loaded again finds its results), decoded photos shared without a copy, and
every Streamlit cache bounded in size and age, proved by exceeding the bounds."""

from __future__ import annotations

import functools
import threading

import numpy as np
import pytest
import streamlit as st
from streamlit.runtime.caching import cache_utils

from helpers import encode, photo

import torch  # a hard dependency: a broken install fails, never skips


# --- the byte-bounded LRU itself ------------------------------------------------------------------

def test_lru_keeps_what_fits_and_drops_the_least_recently_used():
    from vggviz.photo.lru import BytesLRU

    cache = BytesLRU(300, size=len)
    loads = []

    def load(key, n=100):
        return cache.get(key, lambda: loads.append(key) or "x" * n)

    for key in "abc":
        load(key)
    assert cache.keys() == ["a", "b", "c"] and cache.used() == 300  # three fit in the budget
    load("a")  # a hit: used again, so now the most recent
    assert loads == ["a", "b", "c"]
    load("d")  # over the budget: the least recently used (b) goes
    assert cache.keys() == ["c", "a", "d"] and cache.used() == 300
    load("b")
    assert loads == ["a", "b", "c", "d", "b"] and "c" not in cache
    load("huge", 1000)  # alone above the budget: kept (a session is about to use it), the rest dropped
    assert cache.keys() == ["huge"]


def test_lru_loads_once_for_concurrent_callers_and_caches_no_failure():
    from vggviz.photo.lru import BytesLRU

    cache = BytesLRU(10**6, size=lambda v: 1)
    calls, gate = [], threading.Barrier(8)

    def slow_load():
        calls.append(1)
        threading.Event().wait(0.2)  # hold the load open while the other threads arrive
        return object()

    got = []

    def session():
        gate.wait()
        got.append(cache.get("model", slow_load))

    threads = [threading.Thread(target=session) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len({id(v) for v in got}) == 1  # one load, one shared object

    def failing():
        raise ValueError("bad file")

    with pytest.raises(ValueError):
        cache.get("bad", failing)
    assert "bad" not in cache and cache.get("bad", lambda: "fixed") == "fixed"


def test_budget_comes_from_the_environment_in_megabytes():
    from vggviz.photo.lru import budget_bytes

    assert budget_bytes("X", 2048, {"X": "300"}) == 300 * 2**20
    assert budget_bytes("X", 2048, {}) == budget_bytes("X", 2048, {"X": "lots"}) == 2048 * 2**20
    assert budget_bytes("X", 2048, {"X": "-5"}) == 2048 * 2**20


# --- models in the app's cache ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Four different small checkpoints (configuration A with a 16-wide head: 37 MB each)."""
    from vggviz.architecture.model import build_model

    folder = tmp_path_factory.mktemp("ckpts")
    for i in range(4):
        torch.save(build_model("A", hidden=16, num_classes=5, seed=i).state_dict(), folder / f"m{i}.pth")
    return folder


@pytest.fixture()
def four_models(folder, monkeypatch):
    """ui.models over a fresh model cache and a server folder of four checkpoints; counts the loads."""
    from ui import models
    from vggviz.photo import inference, lru, model_identity, server_checkpoints

    monkeypatch.setenv(server_checkpoints.ENV, str(folder))
    loads = []
    monkeypatch.setattr(models, "load_model", lambda *a, **k: loads.append(k["checkpoint_name"])
                        or inference.load_model(*a, **k))
    one = model_identity.model_bytes(inference.load_model("checkpoint", "checkpoint", checkpoint=folder / "m0.pth"))
    monkeypatch.setattr(models, "MODELS", lru.BytesLRU(3 * one, model_identity.model_bytes))
    st.cache_resource.clear()
    yield models, loads
    st.cache_resource.clear()


def _load(models, name):
    from vggviz.photo import server_checkpoints

    return models._server_checkpoint(server_checkpoints.find(name), "cpu", False)


def test_three_models_fit_the_budget_and_the_least_recently_used_goes_beyond_it(four_models):
    models, loads = four_models
    first = {name: _load(models, name) for name in ("m0.pth", "m1.pth", "m2.pth")}
    for name, lm in first.items():  # three fit: each choice again is the same object, not a reload
        assert _load(models, name) is lm
    assert loads == ["m0.pth", "m1.pth", "m2.pth"] and len(models.MODELS) == 3
    _load(models, "m0.pth")  # m0 used again: m1 is now the least recently used
    _load(models, "m3.pth")
    assert len(models.MODELS) == 3 and models.MODELS.used() <= models.MODELS.budget
    assert _load(models, "m0.pth") is first["m0.pth"] and _load(models, "m2.pth") is first["m2.pth"]
    assert loads == ["m0.pth", "m1.pth", "m2.pth", "m3.pth"]
    assert _load(models, "m1.pth") is not first["m1.pth"] and loads[-1] == "m1.pth"  # evicted, loaded again


def test_a_model_loaded_again_finds_its_results(four_models):
    from vggviz.photo.inference import run

    models, loads = four_models
    image = photo(1, (64, 64))
    old = _load(models, "m0.pth")
    key = models.model_key(old)
    result = models.forward(old, key, "sample:x", image, old.preprocess)
    models.MODELS.clear()
    again = _load(models, "m0.pth")
    assert again is not old and loads == ["m0.pth", "m0.pth"]
    assert models.model_key(again) == key  # content, not identity
    assert models.forward(again, models.model_key(again), "sample:x", image, again.preprocess) is result
    # and the key told the truth (exact: the same weights read from one file, the same pass in the same thread)
    np.testing.assert_array_equal(run(again, image).probs, result.probs)
    for other in ("m1.pth", "m2.pth"):  # different weights, different keys
        assert models.model_key(_load(models, other)) != key


def test_model_keys_are_content_not_identity(tmp_path, folder):
    """Every weight source's key: strings only (no id(), no object), equal for equal content."""
    from ui import models
    from vggviz.architecture import configs
    from vggviz.photo import model_identity

    models.MODELS.clear()
    untrained = models._untrained(configs.resolve("A"), "cpu", False)
    key = models.model_key(untrained)
    assert key == ("A", model_identity.UNTRAINED, "cpu", "torch.float32")
    assert all(isinstance(part, str) for part in key) and str(id(untrained)) not in repr(key)
    data = encode(photo(0))
    assert model_identity.of_bytes(data) == model_identity.of_file(_write(tmp_path / "p.png", data))
    assert model_identity.with_classes("sha256:1", None) != model_identity.with_classes("sha256:1", "sha256:2")
    with pytest.raises(ValueError):
        model_identity.content_key(models.load_model("checkpoint", "checkpoint", checkpoint=folder / "m0.pth"))  # never a key for an unidentified model


def _write(path, data):
    path.write_bytes(data)
    return path


# --- decoded photos ------------------------------------------------------------------------------

def test_decoded_uploads_are_shared_without_a_copy_and_bounded_by_bytes(monkeypatch):
    import hashlib

    import ui
    from vggviz.photo import lru

    pictures = [encode(photo(i, (200, 100))) for i in range(3)]
    digests = [hashlib.sha256(p).hexdigest() for p in pictures]
    one = 200 * 100 * 3
    monkeypatch.setattr(ui, "PHOTOS", lru.BytesLRU(2 * one, ui.PHOTOS._size))
    first = ui.decoded(pictures[0], "a.png", digests[0])
    assert ui.decoded(pictures[0], "a.png", digests[0]) is first  # the same object on every rerun
    assert np.array_equal(np.asarray(first), np.asarray(photo(0, (200, 100))))
    ui.decoded(pictures[1], "b.png", digests[1])
    ui.decoded(pictures[2], "c.png", digests[2])  # a third does not fit: the oldest is dropped
    assert ui.PHOTOS.used() == 2 * one and ui.decoded(pictures[0], "a.png", digests[0]) is not first


# --- every Streamlit cache is bounded --------------------------------------------------------------

def _cases():
    import ui
    from ui import models
    from vggviz.explain.attributions import Params

    p = Params("saliency", 0)
    return [  # (cached function, arguments for the i-th distinct entry, must it expire?)
        (models._forward, lambda i: (None, ("A", str(i)), "photo", None, "imagenet"), True),
        (models._prediction, lambda i: (None, ("A", str(i)), "photo", None, "imagenet"), True),
        (models.layer_grid, lambda i: (None, ("k", i), "conv1_1", True, False, (0,)), True),
        (models.channel_view, lambda i: (None, ("k", i), "conv1_1", 0, True, 0.5), True),
        (models.seen, lambda i: (None, ("k", i)), True),
        (models.seen_jpeg_url, lambda i: (None, ("k", i)), True),
        (models._predictions, lambda i: (None, None, ("k", i), 5, "en", False, ()), True),
        (models.filters_png, lambda i: (None, ("k", i)), True),
        (models._weight_histogram, lambda i: (None, ("k", i), "fc8", "en"), True),
        (models.attribution, lambda i: (None, None, ("k", i), p), True),
        (models._strip, lambda i: (None, None, ("k", i), 0, ("conv1_1",), "gradcam"), True),
        (models._class_labels, lambda i: (None, None, ("k", i), "en"), True),
        (models.attribution_png, lambda i: (None, None, ("k", i), "all", 2.0, "heat_map"), True),
        (models.strip_pngs, lambda i: (None, None, ("k", i), "positive", 2.0), True),
        (models.cascade, lambda i: (None, None, ("k", i), p), True),
        (ui.cached_layer_table, lambda i: ("A", (32 + i, 32)), False),  # small and deterministic
        (ui.sample_photo, lambda i: (f"photo {i}",), False),
    ]


def test_caches_are_bounded(monkeypatch):
    """Memory must not creep across a lesson: fill each cache with far more entries than a lesson makes
    of them (stand-in computations, real caches), and count how many are still there; then let time
    pass and see results expire."""
    clock = [1000.0]
    monkeypatch.setattr(cache_utils, "TTLCACHE_TIMER", lambda: clock[0])  # read by caches made from now
    st.cache_resource.clear()
    st.cache_data.clear()
    from ui import models

    many = 300
    for fn, args, expires in _cases():
        computed = []
        original = fn._info.func

        @functools.wraps(original)  # the same signature: "_" arguments stay unhashed
        def stand_in(*a, **k):
            computed.append(a)
            return [len(computed)]

        monkeypatch.setattr(fn._info, "func", stand_in)
        for i in range(many):
            fn(*args(i))
        assert len(computed) == many
        for i in reversed(range(many)):  # newest first: the entries still held are hits
            fn(*args(i))
        held = 2 * many - len(computed)
        # Predict's entries (probabilities, a 30 kB JPEG, a chart's elements) are small: a class's photos all stay; others ≤ 64.
        bound = 256 if fn in (models._prediction, models.seen_jpeg_url, models._predictions) else 64
        assert 1 <= held <= bound, (original.__qualname__, held)
        if expires:
            clock[0] += 2 * 3600  # two hours later, within one lesson's server
            before = len(computed)
            fn(*args(0))  # the most recently used entry
            assert len(computed) == before + 1, f"{original.__qualname__} never expires"
            clock[0] -= 2 * 3600
    st.cache_resource.clear()
    st.cache_data.clear()


def test_a_replaced_server_checkpoint_is_another_model(four_models, folder, tmp_path, monkeypatch):
    import os
    import shutil

    from vggviz.photo import server_checkpoints

    models, loads = four_models
    own = tmp_path / "own"
    own.mkdir()
    shutil.copy(folder / "m0.pth", own / "m.pth")
    monkeypatch.setenv(server_checkpoints.ENV, str(own))
    before = _load(models, "m.pth")
    shutil.copy(folder / "m1.pth", own / "m.pth")  # the teacher puts a new file under the same name
    os.utime(own / "m.pth", ns=(1, 1))
    after = _load(models, "m.pth")
    assert loads == ["m.pth", "m.pth"] and models.model_key(after) != models.model_key(before)
    assert models.model_key(after) == models.model_key(_load(models, "m.pth"))  # and it stays loaded
