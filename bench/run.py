"""Speed and memory of vggviz, each figure a ratio against a bare PyTorch baseline timed in the same run
(median of several repeats after warm-up). Prints a table and JSON.

    python -m bench [--device cpu|cuda] [--repeats 5] [--only pipeline,render,...] [--json FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from torchvision import models  # noqa: E402

from vggviz.photo import images, inference, memory, render  # noqa: E402
from vggviz.explain.attributions import Params, attributor, block_ends, default_batch  # noqa: E402

CONFIG = "vgg16"
TARGETS = {"pipeline": 1.10, "render": 0.5, "integrated_gradients": 1.10, "gradcam_strip": 1.5, "rerun": 0.1,
           "memory_5_sessions": 1.2}


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
                 "Grad-CAM at the 5 block ends", "1 × bare forward+backward")

    def rerun(self) -> None:
        """AppTest reruns after display-only changes, every cache warm: the feature-maps page's colour scale
        and channel, the attributions page's sign (saliency)."""
        for page, kind, key, values, what in (
                ("feature_maps", "radio", "fm_scale", ["shared across the layer", "per channel"], "colour scale"),
                ("feature_maps", "number_input", "fm_channel", [5, 6], "channel"),
                ("attributions", "selectbox", "sign", ["positive", "absolute_value"], "sign")):
            self._rerun(page, kind, key, values, what)

    def _rerun(self, page: str, kind: str, key: str, values: list, what: str) -> None:
        from unittest import mock

        from streamlit.runtime.scriptrunner.script_cache import ScriptCache
        from streamlit.testing.v1 import AppTest

        # A server compiles each page once (its ScriptCache); AppTest makes a new cache on every run and so
        # re-parses and recompiles the page each time (the attributions page: 0.14 -> 0.09 of a forward). Give it
        # one cache, as the server has, so that the figure measures the rerun and not the compiler.
        shared = ScriptCache()
        with mock.patch("streamlit.testing.v1.app_test.ScriptCache", lambda: shared), \
                mock.patch("streamlit.testing.v1.local_script_runner.ScriptCache", lambda: shared):
            at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=600)
            at.session_state["config"], at.session_state["weights"] = "D", "random"
            at.session_state["device"] = self.device.type
            at.run()

            def widget():
                return getattr(at, kind)(key=key)
            for v in values:  # warm every display choice once
                widget().set_value(v).run()
            assert not at.exception, at.exception
            i = [0]

            def run():
                i[0] += 1
                widget().set_value(values[i[0] % 2]).run()
            self.add("rerun", *paired(run, self.bare_forward(), max(self.repeats, 15)),
                     f"AppTest rerun of {page}.py, {what} changed", "bare forward")

    def cams(self) -> None:
        from bench.cams import run  # the CAM family and faithfulness figures live in bench/cams.py
        run(self)

    def first_paint(self) -> None:
        self.rows.append({"figure": "first_paint", "what": "streamlit run app.py → home page visible in Chromium",
                          "value": round(first_paint(), 2), "unit": "s", "baseline": None, "baseline_value": None,
                          "ratio": None, "target": None, "ok": None})

    def memory(self) -> None:
        one = _peak_rss_subprocess(1)
        five = _peak_rss_subprocess(5)
        self.rows.append({"figure": "memory_one_session", "what": "peak RSS: one vgg16, one photo, all its maps",
                          "value": round(one, 1), "unit": "MB", "baseline": None, "baseline_value": None,
                          "ratio": None, "target": None, "ok": None})
        ratio = five / one
        self.rows.append({"figure": "memory_5_sessions", "what": "peak RSS: 5 concurrent sessions, 5 photos",
                          "value": round(five, 1), "unit": "MB", "baseline": "one session", "baseline_value": round(one, 1),
                          "ratio": round(ratio, 3), "target": TARGETS["memory_5_sessions"],
                          "ok": ratio <= TARGETS["memory_5_sessions"]})

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


@contextlib.contextmanager
def _server(env: dict | None = None):
    """`streamlit run app.py` on a free port of 127.0.0.1; yields (url, process) once it answers."""
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true"], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield url, proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _chromium(p):
    return p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])


def first_paint() -> float:
    """Seconds from launching `streamlit run app.py` to the home page's title visible in Chromium."""
    from playwright.sync_api import sync_playwright

    start = time.perf_counter()
    with _server() as (url, _), sync_playwright() as p:
        browser = _chromium(p)
        page = browser.new_page()
        page.goto(f"{url}/")
        page.get_by_role("heading", name="Inside VGG").wait_for(timeout=60_000)
        elapsed = time.perf_counter() - start
        browser.close()
    return elapsed


def _peak_rss_subprocess(sessions: int) -> float:
    """Peak resident memory (MB) of a fresh `streamlit run app.py` server while ``sessions`` browser pages
    each upload their own photo to the feature-maps page at the same time (vgg16, untrained weights)."""
    import tempfile

    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT / "tests"))
    from helpers import encode, photo

    home = tempfile.mkdtemp()
    photos = []
    for i in range(sessions):
        path = Path(home) / f"photo{i}.png"
        path.write_bytes(encode(photo(i)))
        photos.append(path)
    with _server(dict(os.environ, TORCH_HOME=home)) as (url, proc), sync_playwright() as p:
        browser = _chromium(p)
        pages = [browser.new_page() for _ in range(sessions)]
        for page in pages:
            page.set_default_timeout(600_000)
            page.goto(f"{url}/")
            page.get_by_role("heading", name="Inside VGG").wait_for()
            page.locator('[data-testid="stSidebarNav"]').get_by_text("Feature maps", exact=True).click()
            page.get_by_text("One channel, enlarged").wait_for()
            page.get_by_text("Upload", exact=True).click()
            page.locator('input[type="file"]').first.wait_for(state="attached")
        for page, path in zip(pages, photos):  # all at once, like a class told "now upload yours"
            page.locator('input[type="file"]').first.set_input_files(str(path))
        for page, path in zip(pages, photos):
            page.get_by_text(f"{path.name}").first.wait_for(state="attached")
            page.wait_for_timeout(500)
            page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')")
        browser.close()
        status = Path(f"/proc/{proc.pid}/status").read_text()
        return next(int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM:"))


FIGURES = ("pipeline", "render", "integrated_gradients", "rerun", "first_paint", "memory", "half", "cams")


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
        target = "—" if r["target"] is None else f"≤ {r['target']} {'✓' if r['ok'] else '✗'}"
        out.append(f"| {r['figure']} | {r['what']} | {r['value']} {r['unit']} | {base} | {ratio} | {target} |")
    return "\n".join(out)
