"""What a rerun costs to get a decoded upload back: ``st.cache_data`` (the old way: it hashes the upload's
bytes and unpickles a fresh copy of the decoded image on every call) against ``ui.decoded`` (the image
shared by reference, keyed by the digest worked out once per upload). Median of several reruns, and
the resident memory that three reruns' images hold.

    python -m bench.decoded_uploads [--megapixels 35] [--repeats 7]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

import ui  # noqa: E402
from vggviz.photo import images  # noqa: E402


def photo_jpeg(megapixels: float) -> bytes:
    """A smooth photo-like JPEG of about ``megapixels`` (4:3), small enough for the 20 MB upload cap."""
    h = int((megapixels * 1e6 * 3 / 4) ** 0.5)
    w = int(h * 4 / 3)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    rgb = np.stack([np.sin(x / 300), np.cos(y / 200), np.sin((x + y) / 500)], -1) * 100 + 128
    buf = io.BytesIO()
    Image.fromarray(rgb.astype(np.uint8)).save(buf, "JPEG", quality=85)
    return buf.getvalue()


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@st.cache_data(max_entries=16, ttl=3600)
def old_decode(data: bytes, name: str) -> Image.Image:  # ui._decode before this change
    return images.decode_image(data, name)


def per_rerun(fn, repeats: int) -> tuple[float, float]:
    """Median seconds of one call after a warm-up call, and the RSS that three calls' results hold."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    before = rss_mb()
    held = [fn() for _ in range(3)]
    grown = rss_mb() - before
    del held
    return statistics.median(times), grown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megapixels", type=float, default=35)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    data = photo_jpeg(args.megapixels)
    digest = hashlib.sha256(data).hexdigest()
    image = images.decode_image(data, "big.jpg")
    print(f"photo: {image.width}×{image.height} ({image.width * image.height / 1e6:.1f} MP), JPEG {len(data) / 2**20:.1f} MB, "
          f"decoded {image.width * image.height * 3 / 2**20:.0f} MB")
    for label, fn in (("st.cache_data (before)", lambda: old_decode(data, "big.jpg")),
                      ("ui.decoded (after)", lambda: ui.decoded(data, "big.jpg", digest))):
        seconds, grown = per_rerun(fn, args.repeats)
        same = fn() is fn()
        print(f"{label:24} {seconds * 1000:9.3f} ms per rerun, three reruns hold {grown:6.0f} MB more, "
              f"same object each time: {same}")


if __name__ == "__main__":
    main()
