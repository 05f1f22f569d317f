"""Streamlit's front end (its JavaScript, CSS and fonts: ``/static/``), compressed once at its best, for nginx
to serve to a class (deploy/nginx.conf).

    python deploy/assets.py [--folder DIR]

Streamlit sends these files uncompressed and leaves compression to a proxy; HAProxy's gzip (libslz, made for
speed) shrinks Plotly's 4.7 MB bundle to 2.2 MB, on every response. Compressed here once, with brotli at
quality 11 (which browsers take over HTTPS) and gzip at level 9 (which every browser takes), it is 1.1 and
1.4 MB, and nginx sends the stored file as each browser asks (``brotli_static``, ``gzip_static``), from the
page cache, for no CPU. The copy is made per Streamlit version in ``DIR/streamlit-VERSION`` (default: under
``~/.cache/vggviz/assets``), built in a temporary folder and renamed whole, so a half-made copy is never
served; the next run reuses it (about 30 s of two cores the first time).
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import brotli
import streamlit

SOURCE = Path(streamlit.__file__).resolve().parent / "static"  # served by Streamlit at / (its /static/ inside)
FOLDER = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vggviz" / "assets"
# Text worth compressing; Streamlit's fonts (woff2) and pictures (png, gif) are compressed already.
COMPRESSIBLE = {".js", ".css", ".html", ".json", ".svg", ".txt", ".map"}
DONE = ".complete"  # written last: a copy without it is not one


def _compress(path: Path) -> None:
    """``path.br`` and ``path.gz`` beside ``path``, each only where it is smaller than the file."""
    data = path.read_bytes()
    for suffix, packed in ((".br", brotli.compress(data, quality=11)),
                           (".gz", gzip.compress(data, compresslevel=9, mtime=0))):
        if len(packed) < len(data):
            path.with_name(path.name + suffix).write_bytes(packed)


def location(folder: Path = FOLDER) -> Path:
    """Where this Streamlit version's copy is kept in ``folder``, made or not."""
    return folder / f"streamlit-{streamlit.__version__}"


def ready(folder: Path = FOLDER) -> bool:
    """Whether this Streamlit version's copy is made, whole, in ``folder``."""
    return (location(folder) / DONE).exists()


def prepare(folder: Path = FOLDER, source: Path = SOURCE, workers: int | None = None) -> Path:
    """The folder nginx serves as its root: ``source`` copied with each compressible file's ``.br`` and ``.gz``
    beside it, made once per Streamlit version (``workers`` processes; default: one per core)."""
    target = location(folder)
    if ready(folder):
        return target
    folder.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=".building-", dir=folder))
    try:
        copy = building / "root"
        shutil.copytree(source, copy)
        # What nginx serves: /static/ and the page itself (the manifest comes from the replicas).
        texts = [p for p in (copy / "static").rglob("*") if p.is_file() and p.suffix in COMPRESSIBLE]
        texts.append(copy / "index.html")
        texts.sort(key=lambda p: p.stat().st_size, reverse=True)  # the largest first: the workers end together
        pool = ProcessPoolExecutor(workers or os.cpu_count() or 1)
        try:
            list(pool.map(_compress, texts, chunksize=4))
        finally:  # stopped (Ctrl-C, an error): the files not begun are not compressed first
            pool.shutdown(cancel_futures=True)
        (copy / DONE).write_text(streamlit.__version__ + "\n")
        try:
            copy.rename(target)
        except OSError:  # another run made it meanwhile: use that one
            if not ready(folder):
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=FOLDER, help="where the copy is kept (default: %(default)s)")
    args = parser.parse_args(argv)
    print(prepare(args.folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
