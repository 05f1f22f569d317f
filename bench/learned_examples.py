"""Dataset examples (vgg11): photos per second of scoring every conv channel of a zip of JPEG photos (hooks on
all 8 conv layers, max over positions, top/bottom-9 and a random 9 kept per channel) against a bare batched
forward over the same photos decoded and preprocessed beforehand (target: at least 0.9 of its rate), and the
peak memory of a fresh process scoring 200 and 2,000 photos (target: within 1.1×).

    python -m bench --only examples                  (as part of the bench's table)
    python -m bench.learned_examples peak N          (one memory measurement: prints the peak RSS in MB)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bench.evaluate import BATCH, CONFIG, model, photos_zip  # noqa: E402
from bench.timing import paired  # noqa: E402
from vggviz.evaluate import default_workers  # noqa: E402
from vggviz.learned import collection, examples  # noqa: E402
from vggviz.photo import images, inference  # noqa: E402

SPEED_PHOTOS = 64
MEMORY_PHOTOS = (200, 2000)
MEMORY_SIZE = 64  # input size of the memory runs: what is kept per channel does not depend on it
TARGETS = {"examples_speed": 0.9, "examples_memory": 1.1}


def speed(device: torch.device, repeats: int) -> dict:
    lm = model(device)
    photos = collection.open_collection(photos_zip(SPEED_PHOTOS), "bench.zip")
    transform = inference.transform("imagenet")
    decoded = torch.stack([transform(images.decode_image(photos.reader.read(f), f)) for f in photos.files])
    bare_model = lm.model  # the same module, without the engine around it

    def bare():
        with torch.inference_mode():
            for i in range(0, len(decoded), BATCH):
                bare_model(decoded[i:i + BATCH].to(device, memory_format=inference.LAYOUT)).cpu()

    def ours():
        run = examples.score(lm, photos, examples.Settings(), batch_size=BATCH)
        assert run.scored == SPEED_PHOTOS

    ours_s, bare_s = paired(ours, bare, max(1, min(repeats, 3)))
    ratio = bare_s / ours_s  # photos/s of ours over photos/s of the bare loop
    return {"figure": "examples_speed",
            "what": f"dataset examples: {SPEED_PHOTOS} JPEGs 500×375 from a zip, {CONFIG} at 224, batch {BATCH}, "
                    f"{default_workers()} decoding worker(s), all 8 conv layers (2,752 channels), top/bottom/random 9",
            "value": round(SPEED_PHOTOS / ours_s, 2), "unit": "img/s",
            "baseline": "bare batched forward (whole model), pre-decoded",
            "baseline_value": round(SPEED_PHOTOS / bare_s, 2), "ratio": round(ratio, 3),
            "target": TARGETS["examples_speed"], "at_least": True, "ok": ratio >= TARGETS["examples_speed"]}


def peak(n: int) -> dict:
    """Score ``n`` photos in this (fresh) process; peak resident memory of it and of its workers, MB."""
    from planted import WorkerPeak, peak_mb

    lm = model(torch.device("cpu"))
    photos = collection.open_collection(photos_zip(n, (320, 240)), "bench.zip")
    workers = WorkerPeak()
    run = examples.score(lm, photos, examples.Settings(size=MEMORY_SIZE), batch_size=BATCH, progress=workers)
    assert run.scored == n
    return {"self": peak_mb(), "workers": workers.mb, "kept_bytes": run.scores.nbytes()}


def memory() -> dict:
    peaks = {}
    for n in MEMORY_PHOTOS:
        out = subprocess.run([sys.executable, "-m", "bench.learned_examples", "peak", str(n)], cwd=ROOT, check=True,
                             capture_output=True, text=True)
        peaks[n] = json.loads(out.stdout)
    small, large = (peaks[n]["self"] for n in MEMORY_PHOTOS)
    ratio = large / small
    return {"figure": "examples_memory",
            "what": f"peak RSS, dataset examples of {MEMORY_PHOTOS[1]} photos ({CONFIG} at {MEMORY_SIZE}, CPU; kept "
                    f"state {peaks[MEMORY_PHOTOS[1]]['kept_bytes']} vs {peaks[MEMORY_PHOTOS[0]]['kept_bytes']} bytes; "
                    f"worker peak {peaks[MEMORY_PHOTOS[1]]['workers']:.0f} MB vs "
                    f"{peaks[MEMORY_PHOTOS[0]]['workers']:.0f} MB)",
            "value": round(large, 1), "unit": "MB", "baseline": f"{MEMORY_PHOTOS[0]} photos",
            "baseline_value": round(small, 1), "ratio": round(ratio, 3), "target": TARGETS["examples_memory"],
            "ok": ratio <= TARGETS["examples_memory"]}


def figures(device: torch.device, repeats: int) -> list[dict]:
    return [speed(device, repeats), memory()]


if __name__ == "__main__" and sys.argv[1:2] == ["peak"]:
    print(json.dumps(peak(int(sys.argv[2]))))
