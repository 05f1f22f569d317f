"""Speed and memory of vggviz, each figure a ratio against a bare PyTorch baseline timed in the same run
(median of several repeats after warm-up). Prints a table and JSON.

    python -m bench [--device cpu|cuda] [--repeats 5] [--only pipeline,render,...] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# The bench drives pages with AppTest and calls Streamlit's caches from its own thread, outside any script run:
# Streamlit logs "missing ScriptRunContext" for each such call (hundreds per run). Here, and only here, that
# one message of that one logger is dropped; the package's own logging is left alone.
SCRIPT_RUN_CONTEXT_LOGGER = "streamlit.runtime.scriptrunner_utils.script_run_context"
logging.getLogger(SCRIPT_RUN_CONTEXT_LOGGER).addFilter(
    lambda record: "missing ScriptRunContext" not in record.getMessage())

import torch  # noqa: E402
from torchvision import models  # noqa: E402

from vggviz.photo import images, inference, memory, render  # noqa: E402
from vggviz.explain.attributions import Params, attributor, block_ends, default_batch  # noqa: E402

CONFIG = "vgg16"
TARGETS = {"pipeline": 1.10, "render": 0.5, "integrated_gradients": 1.10, "gradcam_strip": 1.5,
           "server_rerun": 0.1, "server_new_session": 0.3, "server_class": 1.2, "server_class_memory": 1.3,
           "server_rss_200": 1.05}
CLASS_SIZE = 30


def paired(ours: Callable[[], object], base: Callable[[], object], repeats: int, warmup: int = 1) -> tuple[float, float]:
    """Median times of ``ours`` and ``base``, measured alternately so that drift on a shared machine
    (turbo, other tenants) hits both alike."""
    for _ in range(warmup):
        base()
        ours()
    a, b = [], []
    for _ in range(repeats):
        b.append(timed(base, 1, warmup=0))
        a.append(timed(ours, 1, warmup=0))
    return statistics.median(a), statistics.median(b)


def timed(fn: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """Median wall time of ``fn`` in seconds, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


class Bench:
    def __init__(self, device: str, repeats: int):
        self.device = torch.device(device)
        self.repeats = repeats
        self.rows: list[dict] = []
        torch.manual_seed(0)
        self.state = models.vgg16().state_dict()  # seeded random weights: speed does not depend on values
        self.reference = models.vgg16().eval().to(self.device)
        self.reference.load_state_dict(self.state)
        self.cl_reference = models.vgg16().eval().to(self.device, memory_format=inference.LAYOUT)
        self.cl_reference.load_state_dict(self.state)
        for p in self.cl_reference.parameters():
            p.requires_grad_(False)
        self.lm = self._ours()
        self.photo_bytes = (ROOT / "vggviz" / "samples" / "chelsea.jpg").read_bytes()
        self.photo = images.decode_image(self.photo_bytes)
        self.x = inference.prepare(self.photo, "imagenet").unsqueeze(0).to(self.device)

    def _ours(self) -> inference.LoadedModel:
        from vggviz.architecture.model import build_model

        model = build_model(CONFIG, seed=None)
        model.load_state_dict(self.state)
        lm = inference.LoadedModel(model, model.config, "bench", inference.imagenet_classes(), "imagenet",
                                   self.device)
        return inference.to_device(lm, self.device, False)

    def add(self, figure: str, ours: float, baseline: float, what: str, base_what: str, unit: str = "ms") -> None:
        ratio = ours / baseline
        target = TARGETS.get(figure)
        scale = 1000 if unit == "ms" else 1
        self.rows.append({"figure": figure, "what": what, "value": round(ours * scale, 2), "baseline": base_what,
                          "baseline_value": round(baseline * scale, 2), "unit": unit, "ratio": round(ratio, 3),
                          "target": target, "ok": None if target is None else ratio <= target})

    # --- the bare baselines ------------------------------------------------------------------------
    def bare_forward(self) -> Callable[[], object]:
        """torchvision's vgg16 forward under inference_mode, in the layout the app uses."""
        x = self.x.to(memory_format=inference.LAYOUT)

        def run():
            with torch.inference_mode():
                return self.cl_reference(x)
        return run

    def bare_forward_backward(self) -> Callable[[], object]:
        x = self.x.to(memory_format=inference.LAYOUT).clone().requires_grad_(True)

        def run():
            out = self.cl_reference(x)
            (grad,) = torch.autograd.grad(out[0, 3], x)
            return grad
        return run

    # --- figures -----------------------------------------------------------------------------------
    def pipeline(self) -> None:
        def nchw():
            with torch.inference_mode():
                return self.reference(self.x)
        cl, plain = paired(self.bare_forward(), nchw, self.repeats)
        self.rows.append({"figure": "bare_forward", "what": f"torchvision {CONFIG} forward, inference_mode, NCHW",
                          "value": round(plain * 1000, 2), "baseline": "channels_last",
                          "baseline_value": round(cl * 1000, 2), "unit": "ms", "ratio": round(cl / plain, 3),
                          "target": None, "ok": None})

        def run():
            image = images.decode_image(self.photo_bytes, "chelsea.jpg")
            result = inference.run(self.lm, image)
            memory.release_free_memory()  # as the app does after every new forward pass
            return result.top(self.lm.classes, 5)
        self.add("pipeline", *paired(run, self.bare_forward(), self.repeats),
                 "decode + preprocess + forward + every conv map (float16) + top-5 + memory release",
                 "bare forward (channels_last)")

    def render(self) -> None:
        result = inference.run(self.lm, self.photo)

        def run():
            return [render.tile(m, max_width=render.DISPLAY_WIDTH) for m in result.features.values()]
        self.add("render", *paired(run, self.bare_forward(), self.repeats),
                 "tile every conv layer's grid at display width (13 layers)", "bare forward")

    def integrated_gradients(self) -> None:
        att = attributor(self.lm)
        params = Params("integrated_gradients", 3, steps=32)
        one = self.bare_forward_backward()

        def bare32():
            for _ in range(32):
                one()
        self.add("integrated_gradients", *paired(lambda: att.attribute(self.x, params), bare32,
                                                 max(1, self.repeats // 3), warmup=0),
                 f"captum IG, 32 steps, internal batch {default_batch(self.device)}", "32 × bare forward+backward")
        names = block_ends(self.lm.model)
        self.add("gradcam_strip", *paired(lambda: att.strip(self.x, 3, names), one, self.repeats),
                 "Grad-CAM at the 5 block ends (one forward + one backward, torch hooks)", "1 × bare forward+backward")

    def server(self) -> None:
        """The real server (``bench.server``): display-only reruns, new sessions on cached pages, a class of
        30 opening Predict at once, and memory over 200 reruns."""
        from bench import server as srv

        forward = timed(self.bare_forward(), max(self.repeats, 5))  # the servers below are not running yet
        base = "bare forward"
        with srv.Server(srv.DEFAULTS) as s:
            self.add("server_rerun_defaults", srv.display_rerun_cpu(s), forward,
                     "server CPU per display-only rerun (feature maps, colour scale), Streamlit's defaults", base)
            self.add("server_new_session_defaults", srv.new_session_cpu(s, "feature_maps"), forward,
                     "server CPU for a new session on Feature maps, results cached, Streamlit's defaults", base)
        with srv.Server() as s:
            self.add("server_rerun", srv.display_rerun_cpu(s), forward,
                     "server CPU per display-only rerun (feature maps, colour scale)", base)
            for page in ("predict", "feature_maps", "attributions"):
                self.add("server_new_session", srv.new_session_cpu(s, page), forward,
                         f"server CPU for a new session on {page}, results cached", base)
            after_10, after_200 = srv.rss_drift(s)
            self.add("server_rss_200", after_200, after_10, "server RSS after 200 display-only reruns",
                     "after 10", unit="MB")
        self.class_of(CLASS_SIZE)

    def class_of(self, students: int) -> None:
        """``students`` sessions open Predict with as many different photos at once, on a fresh server, ``repeats``
        times: the run of median ratio is reported, and the highest peak memory of them against one student alone
        on another fresh server. Before each class the bare forward is timed with no server running (a shared
        machine's speed drifts over minutes)."""
        from bench import server as srv

        sys.path.insert(0, str(ROOT / "tests"))
        from helpers import encode, photo

        photos = [encode(photo(i), "JPEG", quality=90) for i in range(students)]
        with srv.Server() as s:
            srv.class_opens_predict(s, photos[:1])
            one = s.peak()
        runs, many = [], 0.0
        for _ in range(max(1, self.repeats)):
            forward = timed(self.bare_forward(), max(self.repeats, 5))
            with srv.Server() as s:
                elapsed, _ = srv.class_opens_predict(s, photos)
                many = max(many, s.peak())
            runs.append((elapsed / (students * forward), elapsed, forward))
        runs.sort()
        _, elapsed, forward = runs[len(runs) // 2]
        self.add("server_class", elapsed, students * forward,
                 f"{students} sessions open Predict with {students} different photos at once: until the last "
                 f"has its predictions (median of {len(runs)} classes, ratios {runs[0][0]:.2f}–{runs[-1][0]:.2f})",
                 f"{students} × bare forward", unit="s")
        self.add("server_class_memory", many, one, f"server peak RSS, {students} sessions (highest of "
                 f"{len(runs)} classes)", "one session", unit="MB")

    def cams(self) -> None:
        from bench.cams import run  # the CAM family and faithfulness figures live in bench/cams.py
        run(self)

    def first_paint(self) -> None:
        self.rows.append({"figure": "first_paint", "what": "streamlit run app.py → home page visible in Chromium",
                          "value": round(first_paint(), 2), "unit": "s", "baseline": None, "baseline_value": None,
                          "ratio": None, "target": None, "ok": None})

    def half(self) -> None:
        if self.device.type != "cuda":
            return
        half_ref = models.vgg16().eval().to(self.device, torch.float16, memory_format=torch.channels_last)
        half_ref.load_state_dict(self.state)
        x = self.x.to(torch.float16, memory_format=torch.channels_last)
        batch = x.repeat(32, 1, 1, 1)

        def bare():
            with torch.inference_mode():
                half_ref(batch)
        lm = self._ours()
        inference.to_device(lm, self.device, True)

        def ours():
            with torch.inference_mode():
                lm.model(batch)
        o, b = paired(ours, bare, self.repeats)
        self.rows.append({"figure": "half_images_per_s", "what": "vggviz model, fp16 + channels_last, batch 32",
                          "value": round(32 / o, 1), "unit": "img/s", "baseline": "bare fp16 forward",
                          "baseline_value": round(32 / b, 1), "ratio": round(o / b, 3), "target": None, "ok": None})

    def erf(self) -> None:
        from bench import erf  # its own module: the effective receptive field and one unit (issue 12)
        erf.figures(self)

    def evaluate(self) -> None:
        from bench import evaluate  # its own module: figures of "Evaluate a folder" (vgg11)
        self.rows += evaluate.figures(self.device, self.repeats)


def _chromium(p):
    return p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])


def first_paint() -> float:
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


FIGURES = ("pipeline", "render", "integrated_gradients", "server", "first_paint", "half", "evaluate", "erf", "cams")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", default=",".join(FIGURES), help=f"comma-separated subset of {', '.join(FIGURES)}")
    parser.add_argument("--json", metavar="FILE", help="also write the JSON here")
    args = parser.parse_args(argv)
    bench = Bench(args.device, args.repeats)
    for figure in args.only.split(","):
        if figure not in FIGURES:
            parser.error(f"unknown figure {figure!r}")
        getattr(bench, figure)()
    machine = {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
               "torch": torch.__version__, "threads": torch.get_num_threads(), "device": str(bench.device),
               "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None}
    print(table(bench.rows, machine))
    data = json.dumps({"machine": machine, "figures": bench.rows}, indent=2)
    print(data)
    if args.json:
        Path(args.json).write_text(data + "\n")
    return 0 if all(r["ok"] is not False for r in bench.rows) else 1


def table(rows: list[dict], machine: dict) -> str:
    out = [f"vggviz bench: {CONFIG}, 224×224, batch 1 — {machine['device']}, {machine['cores']} cores, torch {machine['torch']}",
           "", "| figure | what | value | baseline | ratio | target |", "|---|---|---|---|---|---|"]
    for r in rows:
        base = f"{r['baseline']}: {r['baseline_value']} {r['unit']}" if r["baseline"] else "—"
        ratio = "—" if r["ratio"] is None else f"{r['ratio']:.3f}"
        bound = "≥" if r.get("at_least") else "≤"
        target = "—" if r["target"] is None else f"{bound} {r['target']} {'✓' if r['ok'] else '✗'}"
        out.append(f"| {r['figure']} | {r['what']} | {r['value']} {r['unit']} | {base} | {ratio} | {target} |")
    return "\n".join(out)
