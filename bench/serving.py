"""The serving figures of ``python -m bench``, measured on the real server (``bench.server``): display-only
reruns, new sessions on cached pages, a class of 30 opening Predict at once, a camera photo against the same
photo uploaded, memory over 200 reruns, and the first paint in Chromium."""

from __future__ import annotations

import sys
import time

from bench.timing import ROOT, TARGETS, Bench, timed

CLASS_SIZE = 30
# A class's figure swings by ±15 % from one class to the next on a shared two-core machine: the median of at
# least this many classes is reported, whatever --repeats says (more when it says more).
CLASSES = 5
CAMERA_PAIRS = 8  # camera and upload photos, alternately first
TARGETS.update({"server_class": 1.1, "server_camera": 1.1})


def server(bench: Bench) -> None:
    """Display-only reruns, new sessions on cached pages, a class of 30 opening Predict at once, and memory
    over 200 reruns."""
    from bench import server as srv

    forward = timed(bench.bare_forward(), max(bench.repeats, 5))  # the servers below are not running yet
    base = "bare forward"
    with srv.Server(srv.DEFAULTS) as s:
        bench.add("server_rerun_defaults", srv.display_rerun_cpu(s), forward,
                  "server CPU per display-only rerun (feature maps, colour scale), Streamlit's defaults", base)
        bench.add("server_new_session_defaults", srv.new_session_cpu(s, "feature_maps"), forward,
                  "server CPU for a new session on Feature maps, results cached, Streamlit's defaults", base)
    with srv.Server() as s:
        bench.add("server_rerun", srv.display_rerun_cpu(s), forward,
                  "server CPU per display-only rerun (feature maps, colour scale)", base)
        for page in ("predict", "feature_maps", "attributions"):
            bench.add("server_new_session", srv.new_session_cpu(s, page), forward,
                      f"server CPU for a new session on {page}, results cached", base)
        after_10, after_200 = srv.rss_drift(s)
        bench.add("server_rss_200", after_200, after_10, "server RSS after 200 display-only reruns",
                  "after 10", unit="MB")
    camera(bench)
    a_class(bench)


def camera(bench: Bench) -> None:
    """The camera figure alone (``--only camera``; also part of ``server``)."""
    camera_vs_upload(bench, max(bench.repeats, CAMERA_PAIRS))


def a_class(bench: Bench) -> None:
    """The class figures alone (``--only class``; also part of ``server``)."""
    class_of(bench, CLASS_SIZE)


def _photos(count: int, **jpeg) -> list[bytes]:
    sys.path.insert(0, str(ROOT / "tests"))
    from helpers import encode, photo

    return [encode(photo(i), "JPEG", quality=90, **jpeg) for i in range(count)]


def camera_vs_upload(bench: Bench, pairs: int) -> None:
    """A photo taken with the camera to its predictions, against the same photo uploaded, on one server in one
    run (``bench.server.photo_to_predictions``: medians over ``pairs`` photos)."""
    from bench import server as srv

    shots, uploads = _photos(pairs, comment=b"camera"), _photos(pairs, comment=b"upload")  # same pixels
    with srv.Server() as s:
        srv.photo_to_predictions(s, list(zip(_photos(1, comment=b"warm-up"), _photos(1, comment=b"warm-up 2"))))
        camera, upload = srv.photo_to_predictions(s, list(zip(shots, uploads)))
    bench.add("server_camera", camera, upload, f"a camera photo to its predictions on Predict (median of {pairs})",
              "the same photo uploaded")


def class_classes(repeats: int) -> int:
    """How many classes the class figure takes the median of."""
    return max(CLASSES, repeats)


def class_of(bench: Bench, students: int) -> None:
    """``students`` sessions open Predict with as many different photos at once, on a fresh server,
    ``class_classes(repeats)`` times: the run of median ratio is reported, and the highest peak memory of them
    against one student alone on another fresh server; on the first class's server, the same photos once more from
    new sessions, whose CPU is a student's work beside decoding and the forward (a figure a busy machine disturbs
    less than the class's wall time). Before each class the bare forward is timed with no server running (a shared
    machine's speed drifts over minutes)."""
    from bench import server as srv

    photos = _photos(students)
    with srv.Server() as s:
        srv.class_opens_predict(s, photos[:1])
        one = s.peak()
    runs, many, beside = [], 0.0, 0.0
    for c in range(class_classes(bench.repeats)):
        forward = timed(bench.bare_forward(), max(bench.repeats, 5))
        with srv.Server() as s:
            elapsed = srv.class_opens_predict(s, photos)[0]
            many = max(many, s.peak())
            if c == 0:  # the same photos again from new sessions: every prediction cached
                beside = srv.class_opens_predict(s, photos)[2] / students
        runs.append((elapsed / (students * forward), elapsed, forward))
    runs.sort()
    _, elapsed, forward = runs[len(runs) // 2]
    bench.add("server_class", elapsed, students * forward,
              f"{students} sessions open Predict with {students} different photos at once: until the last "
              f"has its predictions (median of {len(runs)} classes, ratios {runs[0][0]:.2f}–{runs[-1][0]:.2f})",
              f"{students} × bare forward", unit="s")
    bench.add("server_class_beside", beside, forward, f"server CPU per student of a class of {students} sending "
              "photos already predicted: a student's work beside decoding and the forward (script run, chart, "
              "picture, upload, messages)", "bare forward")
    bench.add("server_class_memory", many, one, f"server peak RSS, {students} sessions (highest of "
              f"{len(runs)} classes)", "one session", unit="MB")


def first_paint(bench: Bench) -> None:
    bench.rows.append({"figure": "first_paint", "what": "streamlit run app.py → home page visible in Chromium",
                       "value": round(first_paint_seconds(), 2), "unit": "s", "baseline": None,
                       "baseline_value": None, "ratio": None, "target": None, "ok": None})


def _chromium(p):
    return p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])


def first_paint_seconds() -> float:
    """Seconds from launching `streamlit run app.py` to the home page's title visible in Chromium."""
    from playwright.sync_api import sync_playwright

    from bench.server import Server

    start = time.perf_counter()
    with Server() as server, sync_playwright() as p:
        browser = _chromium(p)
        page = browser.new_page()
        page.goto(f"{server.url}/?lang=en")
        page.get_by_role("heading", name="Inside VGG").wait_for(timeout=60_000)
        elapsed = time.perf_counter() - start
        browser.close()
    return elapsed
