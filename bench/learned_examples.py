"""Dataset examples (vgg11): photos per second of scoring every conv channel of a zip of JPEG photos (hooks on
all 8 conv layers, max over positions, top/bottom-9 and a random 9 kept per channel) against a bare batched
forward over the same photos decoded and preprocessed beforehand (target: at least 0.9 of its rate), and the
peak memory of a fresh process scoring 200 and 2,000 photos (target: within 1.1×).

    python -m bench --only examples                  (as part of the bench's table)
    python -m bench.learned_examples peak N          (one memory measurement: prints the peak RSS in MB)
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bench.evaluate import BATCH, CONFIG, model, peak_over_photos, photos_zip  # noqa: E402
from bench.timing import answer_peak, fresh_peaks, peak_growth_row, photos_per_second_row  # noqa: E402
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

    return photos_per_second_row("examples_speed",
                                 f"dataset examples: {SPEED_PHOTOS} JPEGs 500×375 from a zip, {CONFIG} at 224, "
                                 f"batch {BATCH}, {default_workers()} decoding worker(s), all 8 conv layers "
                                 f"(2,752 channels), top/bottom/random 9",
                                 SPEED_PHOTOS, ours, bare, max(1, min(repeats, 3)),
                                 "bare batched forward (whole model), pre-decoded", TARGETS["examples_speed"])


def peak(n: int) -> dict:
    """Score ``n`` photos in this (fresh) process; peak resident memory of it and of its workers, MB."""
    def work(lm: inference.LoadedModel, data: bytes, progress: Callable) -> dict:
        photos = collection.open_collection(data, "bench.zip")
        run = examples.score(lm, photos, examples.Settings(size=MEMORY_SIZE), batch_size=BATCH, progress=progress)
        assert run.scored == n
        return {"kept_bytes": run.scores.nbytes()}

    return peak_over_photos(n, work)


def memory() -> dict:
    peaks = fresh_peaks("bench.learned_examples", MEMORY_PHOTOS)
    small, large = (peaks[n] for n in MEMORY_PHOTOS)
    return peak_growth_row("examples_memory",
                           f"peak RSS, dataset examples of {MEMORY_PHOTOS[1]} photos ({CONFIG} at {MEMORY_SIZE}, "
                           f"CPU; kept state {large['kept_bytes']} vs {small['kept_bytes']} bytes; "
                           f"worker peak {large['workers']:.0f} MB vs {small['workers']:.0f} MB)",
                           peaks, MEMORY_PHOTOS, TARGETS["examples_memory"])


def figures(device: torch.device, repeats: int) -> list[dict]:
    return [speed(device, repeats), memory()]


if __name__ == "__main__":
    answer_peak(peak)
