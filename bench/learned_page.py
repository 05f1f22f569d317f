"""Issue 22's page figure (``python -m bench --only channel_page``): a new session opening a unit's link on the
page "What each channel looks for" (``/channel?config=vgg16&layer=conv4_3&channel=12&lang=en``), the unit's
feature visualisation (the page's quick preset) and the sample photos' dataset examples prepared beforehand in a
gallery folder of its own by ``python -m vggviz visualize`` and ``python -m vggviz examples``, as a teacher
does before class. The server's CPU (``bench.server``: the real ``streamlit run app.py``, read from /proc) for
that session against a bare vgg16 forward timed in the same run:

- ``channel_page``: a new session on a page other sessions opened before (warm caches), per session;
- ``channel_page_first``: the very first session of a fresh server (the app's modules imported, the model built
  and identified).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from bench.timing import ROOT, TARGETS, Bench, timed

TARGETS.update({"channel_page": 0.1})
CONFIG, LAYER, CHANNEL = "vgg16", "conv4_3", 12
QUERY = f"config={CONFIG}&layer={LAYER}&channel={CHANNEL}&lang=en"


def prepare(gallery: str) -> None:
    """The unit's visualisation at the page's quick preset and the samples' examples of its layer, in
    ``gallery``, as the commands write them."""
    from vggviz.learned import visualize

    quick = visualize.QUICK
    env = dict(os.environ, VGGVIZ_GALLERY=gallery)
    common = ["--weights", "random", "--device", "cpu", "--lang", "en"]
    for args in (["visualize", CONFIG, "--layer", LAYER, "--channel", str(CHANNEL), "--steps", str(quick.steps),
                  "--size", str(quick.size), "--upsample", "none"],
                 ["examples", "samples", "--config", CONFIG, "--layers", LAYER]):
        subprocess.run([sys.executable, "-m", "vggviz", *args, *common], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)


def opened(server, query: str = QUERY) -> None:
    """One new session opening the unit's link, its run finished and showing the precomputed image."""
    from bench.client import ServerError

    s = server.session("channel", query=query)
    try:
        if "ch_vis_start" in s.widgets or "ch_examples_start" in s.widgets:
            raise ServerError("the page did not find the precomputed visualisation or examples")
    finally:
        s.close()


def figures(bench: Bench) -> None:
    from bench import server as srv

    with tempfile.TemporaryDirectory() as gallery:
        prepare(gallery)
        forward = timed(bench.bare_forward(), max(bench.repeats, 5))  # no server running yet
        with srv.Server(env=dict(os.environ, VGGVIZ_GALLERY=gallery)) as s:
            start = s.cpu()
            opened(s)
            first = s.cpu() - start
            warm = srv.cpu_per_call(s, lambda _: opened(s), max(10, 2 * bench.repeats))
    base = "bare forward"
    bench.add("channel_page", warm, forward, f"server CPU for a new session opening {LAYER}, channel {CHANNEL} "
              "by its link, visualisation and examples precomputed, the page opened before", base)
    bench.add("channel_page_first", first, forward, "the same, the first session of a fresh server (the app's "
              "modules imported, the model built and identified)", base)
