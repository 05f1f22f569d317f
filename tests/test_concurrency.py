"""A classroom: eight sessions at once on one cached model. No errors, the same answers as one session
alone, one copy of the model in memory, no hooks left behind."""

import pathlib
import threading

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import report
from helpers import one_runtime, plain

torch = pytest.importorskip("torch")
ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGES = ["predict.py", "feature_maps.py", "attributions.py"]

pytestmark = pytest.mark.slow


def _rss_mb() -> float:
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def session(page: str) -> dict:
    """Run one page as one student would, and return what it showed."""
    at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=300)
    at.session_state["config"], at.session_state["weights"] = "A", "random"
    at.run()
    return {
        "exceptions": [e.value for e in at.exception],
        "errors": [e.value for e in at.error],
        "captions": [plain(c.value) for c in at.caption if "ms" not in c.value],  # timings differ
        "metrics": [(m.label, m.value) for m in at.metric],
        "charts": [c.proto.spec for c in at.get("plotly_chart")],
        # The class the page pre-selected, read from the element itself (reading widget values goes through
        # AppTest's per-run state, which its threads race on).
        "target": at.selectbox(key="target").proto.default if page == "attributions.py" else None,
    }


@pytest.fixture(scope="module")
def server_runtime():
    with one_runtime() as runtime:
        yield runtime


@pytest.fixture(scope="module")
def alone(server_runtime):
    st.cache_resource.clear()
    st.cache_data.clear()
    return {page: session(page) for page in PAGES}


def test_eight_sessions_at_once_match_one_session_alone(alone):
    from ui import models
    from vggviz.explain.attributions import attributor, hook_count

    model_mb = sum(p.numel() * 4 for p in models._load_model("A", "random", "auto", False, True).model.parameters()) / 2**20
    before = _rss_mb()
    results: list[tuple[str, dict]] = []
    failures: list[BaseException] = []

    def student(page):
        try:
            results.append((page, session(page)))
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    with report.measured("concurrency", "8 AppTest sessions, predict / feature maps / attributions") as row:
        threads = [threading.Thread(target=student, args=(PAGES[i % len(PAGES)],)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        growth = _rss_mb() - before
        row["outcome"] = f"{len(results)} sessions, {len(failures)} failures"
        row["message"] = f"RSS grew {growth:.0f} MB (one vgg11 is {model_mb:.0f} MB)"
    assert not failures and len(results) == 8, [repr(f) for f in failures]
    for page, seen in results:
        assert not seen["exceptions"] and not seen["errors"], (page, seen)
        assert seen == alone[page], page
    assert growth < 0.5 * model_mb  # no per-session copy of the model
    lm = models._load_model("A", "random", "auto", False, True)
    assert hook_count(lm.model) == 0 and hook_count(attributor(lm).model) == 0


def test_caches_are_bounded():
    """Memory must not creep across a lesson: every cache has a size bound, results also a time to live."""
    import ui
    from ui import models

    assert models._load_model._info.max_entries == 2  # at most two models held
    for fn in (models.forward, models.layer_grid, models.attribution, models.strip, models.cascade, ui._decode):
        assert fn._info.max_entries and fn._info.ttl, fn
    for fn in (ui.cached_layer_table, ui.sample_photo):  # small, deterministic results
        assert fn._info.max_entries, fn
