"""Evaluate a folder (vgg11, 224×224): photos per second of ``evaluate`` on a zip of JPEG photos against a
bare batched forward over the same photos decoded and preprocessed beforehand (target: at least 0.9 of its
rate, decoding overlapped with compute by the DataLoader's workers), and the peak memory of a fresh
process evaluating 200 and 2,000 photos (target: within 1.1×).

    python -m bench --only evaluate          (as part of the bench's table)
    python -m bench.evaluate peak N          (one memory measurement: prints the peak RSS in MB)
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bench.timing import paired  # noqa: E402
from vggviz.architecture.model import build_model  # noqa: E402
from vggviz.evaluate import archive, default_workers  # noqa: E402
from vggviz.evaluate.run import evaluate  # noqa: E402
from vggviz.photo import images, inference  # noqa: E402

CONFIG = "vgg11"
BATCH = 16
SPEED_PHOTOS = 64
MEMORY_PHOTOS = (200, 2000)
TARGETS = {"evaluate_speed": 0.9, "evaluate_memory": 1.1}


def photos_zip(n: int, size: tuple[int, int] = (500, 375)) -> bytes:
    """``n`` camera-sized JPEG photos spread over four class folders named after ImageNet classes."""
    from helpers import encode, photo

    classes = inference.imagenet_classes()[:4]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for i in range(n):
            zf.writestr(f"val/{classes[i % 4]}/{i:05d}.jpg", encode(photo(i % 50, size), "JPEG", quality=90))
    return buf.getvalue()


def model(device: torch.device) -> inference.LoadedModel:
    m = build_model(CONFIG, seed=0)  # speed and memory do not depend on the values of the weights
    lm = inference.LoadedModel(m, m.config, "bench", inference.imagenet_classes(), "imagenet", device)
    return inference.to_device(lm, device, False)


def speed(device: torch.device, repeats: int) -> dict:
    lm = model(device)
    listing = archive.open_zip(photos_zip(SPEED_PHOTOS), "bench.zip")
    transform = inference.transform("imagenet")
    files = [f for folder in listing.folders.values() for f in folder]
    decoded = torch.stack([transform(images.decode_image(listing.reader.read(f), f)) for f in files])
    bare_model = lm.model  # the same module, without the engine around it

    def bare():
        with torch.inference_mode():
            for i in range(0, len(decoded), BATCH):
                x = decoded[i:i + BATCH].to(device, memory_format=inference.LAYOUT)
                torch.softmax(bare_model(x), 1).topk(5, 1)[0].cpu()

    def ours():
        ev = evaluate(lm, listing, batch_size=BATCH)
        assert len(ev.predictions) == SPEED_PHOTOS

    ours_s, bare_s = paired(ours, bare, max(1, min(repeats, 3)))
    ratio = bare_s / ours_s  # photos/s of ours over photos/s of the bare loop
    return {"figure": "evaluate_speed",
            "what": f"evaluate: {SPEED_PHOTOS} JPEGs 500×375 from a zip, {CONFIG}, batch {BATCH}, "
                    f"{default_workers()} decoding worker(s), metrics",
            "value": round(SPEED_PHOTOS / ours_s, 2), "unit": "img/s", "baseline": "bare batched forward, pre-decoded",
            "baseline_value": round(SPEED_PHOTOS / bare_s, 2), "ratio": round(ratio, 3),
            "target": TARGETS["evaluate_speed"], "at_least": True, "ok": ratio >= TARGETS["evaluate_speed"]}


def peak(n: int) -> dict:
    """Evaluate ``n`` photos in this (fresh) process; peak resident memory of it and of its workers, MB."""
    from planted import WorkerPeak, peak_mb

    lm = model(torch.device("cpu"))
    listing = archive.open_zip(photos_zip(n, (320, 240)), "bench.zip")
    workers = WorkerPeak()
    ev = evaluate(lm, listing, batch_size=BATCH, progress=workers)
    assert len(ev.predictions) == n
    return {"self": peak_mb(), "workers": workers.mb}


def memory() -> dict:
    peaks = {}
    for n in MEMORY_PHOTOS:
        out = subprocess.run([sys.executable, "-m", "bench.evaluate", "peak", str(n)], cwd=ROOT, check=True,
                             capture_output=True, text=True)
        peaks[n] = json.loads(out.stdout)
    small, large = (peaks[n]["self"] for n in MEMORY_PHOTOS)
    ratio = large / small
    return {"figure": "evaluate_memory",
            "what": f"peak RSS, evaluate {MEMORY_PHOTOS[1]} photos ({CONFIG}, CPU; worker peak "
                    f"{peaks[MEMORY_PHOTOS[1]]['workers']:.0f} MB vs {peaks[MEMORY_PHOTOS[0]]['workers']:.0f} MB)",
            "value": round(large, 1), "unit": "MB", "baseline": f"{MEMORY_PHOTOS[0]} photos",
            "baseline_value": round(small, 1), "ratio": round(ratio, 3), "target": TARGETS["evaluate_memory"],
            "ok": ratio <= TARGETS["evaluate_memory"]}


def figures(device: torch.device, repeats: int) -> list[dict]:
    return [speed(device, repeats), memory()]


if __name__ == "__main__" and sys.argv[1:2] == ["peak"]:
    print(json.dumps(peak(int(sys.argv[2]))))
