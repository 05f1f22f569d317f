"""The bench's shared timing machinery: paired and single medians, the ``Bench`` that holds the model, the
photo and the bare torchvision baselines every figure is a ratio against, and the table of targets. Figure
modules import this; ``bench.run`` only orchestrates them (no import circle)."""

from __future__ import annotations

import logging
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

from vggviz.photo import images, inference  # noqa: E402

CONFIG = "vgg16"
# Figure → the highest ratio allowed (the lowest where a row says ``at_least``); figure modules add their own.
TARGETS = {"pipeline": 1.10, "render": 0.5, "integrated_gradients": 1.10, "gradcam_strip": 1.5,
           "server_rerun": 0.1, "server_new_session": 0.3, "server_class": 1.2, "server_class_memory": 1.3,
           "server_rss_200": 1.05}


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
    """One run's model (ours and torchvision's, same seeded weights), photo, input and rows of figures."""

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
        self.lm = self.fresh_model()
        self.photo_bytes = (ROOT / "vggviz" / "samples" / "chelsea.jpg").read_bytes()
        self.photo = images.decode_image(self.photo_bytes)
        self.x = inference.prepare(self.photo, "imagenet").unsqueeze(0).to(self.device)

    def fresh_model(self) -> inference.LoadedModel:
        """A fresh vggviz model with the bench's weights, on its device."""
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
