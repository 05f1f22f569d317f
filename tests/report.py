"""A table of the hostile cases a test run tried, written to ``$VGGVIZ_ARTIFACTS`` (default ``artifacts/``).

A row's ``message`` is what was shown in English; ``message_zh``, where the case was tried in Chinese too."""

from __future__ import annotations

import os
import pathlib
import time
from contextlib import contextmanager

ROOT = pathlib.Path(__file__).resolve().parents[1]
ROWS: list[dict] = []


def artifacts() -> pathlib.Path:
    folder = pathlib.Path(os.environ.get("VGGVIZ_ARTIFACTS", ROOT / "artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _rss_mb(field: str) -> float:
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextmanager
def measured(kind: str, case: str):
    """Time a case and its peak resident memory above the start (Linux: VmHWM, reset first)."""
    try:
        pathlib.Path("/proc/self/clear_refs").write_text("5")  # resets the peak (VmHWM) to now
    except OSError:
        pass
    before = _rss_mb("VmRSS")
    row = {"kind": kind, "case": case, "outcome": "", "message": ""}
    start = time.perf_counter()
    try:
        yield row
    finally:
        row["ms"] = round((time.perf_counter() - start) * 1000)
        row["peak_mb"] = round(max(0.0, _rss_mb("VmHWM") - before), 1)
        ROWS.append(row)


def write() -> pathlib.Path | None:
    if not ROWS:
        return None
    path = artifacts() / "hostile-cases.md"
    lines = ["| kind | case | outcome | message shown (English) | message shown (中文) | time (ms) "
             "| peak memory above start (MB) |",
             "|---|---|---|---|---|---|---|"]
    for r in ROWS:
        en, zh = (r.get(key, "").replace("|", "\\|").replace("\n", " ") for key in ("message", "message_zh"))
        lines.append(f"| {r['kind']} | {r['case']} | {r['outcome']} | {en} | {zh} | {r['ms']} | {r['peak_mb']} |")
    path.write_text("\n".join(lines) + "\n")
    return path
