"""Speed and memory of vggviz, each figure a ratio against a bare PyTorch baseline timed in the same run
(median of several repeats after warm-up). Prints a table and JSON.

    python -m bench [--device cpu|cuda] [--repeats 5] [--only pipeline,render,...] [--json FILE]

``--only class,camera`` measures two of the server's figures alone (a class of 30 at once, the median of at least
five classes; a camera photo against the same photo uploaded), which ``server`` includes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from collections.abc import Callable
from pathlib import Path

import torch

from bench import (attributions, cams, erf, evaluate, first_visit, forward, learned_examples, learned_page,
                   learned_visualize, serving, train_server, train_speed)
from bench.timing import CONFIG, Bench


def _evaluate(bench: Bench) -> None:
    bench.rows += evaluate.figures(bench.device, bench.repeats)


def _train(bench: Bench) -> None:
    bench.rows += train_speed.figures(bench.device, bench.repeats)


def _train_server(bench: Bench) -> None:
    bench.rows += train_server.figures(bench.repeats)


def _examples(bench: Bench) -> None:
    bench.rows += learned_examples.figures(bench.device, bench.repeats)


# Figure name (``--only``) → the function of its module that adds its rows, in the order the table lists them.
FIGURES: dict[str, Callable[[Bench], None]] = {
    "pipeline": forward.pipeline, "render": forward.render_maps,
    "integrated_gradients": attributions.integrated_gradients, "server": serving.server,
    "first_paint": serving.first_paint, "half": forward.half, "evaluate": _evaluate, "erf": erf.figures,
    "cams": cams.run, "examples": _examples, "visualize": learned_visualize.figures,
    "channel_page": learned_page.figures, "train": _train, "train_server": _train_server,
    "class": serving.a_class, "camera": serving.camera, "first_visit": first_visit.figures}
PARTS = ("class", "camera")  # within "server": not run on their own by default


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", default=",".join(f for f in FIGURES if f not in PARTS),
                        help=f"comma-separated subset of {', '.join(FIGURES)}")
    parser.add_argument("--json", metavar="FILE", help="also write the JSON here")
    args = parser.parse_args(argv)
    bench = Bench(args.device, args.repeats)
    for figure in args.only.split(","):
        if figure not in FIGURES:
            parser.error(f"unknown figure {figure!r}")
        FIGURES[figure](bench)
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
        unit = f" {r['target_unit']}" if r.get("target_unit") else ""  # an absolute target, not a ratio
        target = "—" if r["target"] is None else f"{bound} {r['target']}{unit} {'✓' if r['ok'] else '✗'}"
        out.append(f"| {r['figure']} | {r['what']} | {r['value']} {r['unit']} | {base} | {ratio} | {target} |")
    return "\n".join(out)
