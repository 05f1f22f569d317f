"""Tables derived from the layer table: display rows, CSV, plain text, JSON, the paper's Table 1
regenerated, and the per-configuration comparison. Torch-free."""

from __future__ import annotations

import csv
import io
import json

from . import configs
from .layers import RECORD_KEYS, Layer, layer_table, totals


def shape_text(shape: tuple[int, ...]) -> str:
    return "×".join(str(d) for d in shape)


def display_rows(rows: list[Layer]) -> list[dict]:
    """One dict per layer plus a totals row, for ``st.dataframe`` and text output."""
    out = []
    for r in rows:
        out.append({
            "layer": r.name, "type": r.type, "kernel": r.kernel, "stride": r.stride, "padding": r.padding,
            "input": shape_text(r.in_shape), "output": shape_text(r.out_shape),
            "params": r.params, "MACs": r.macs, "r": r.rf, "jump": r.jump, "start": r.start,
        })
    t = totals(rows)
    out.append({
        "layer": "total", "type": f"{t.weight_layers} weight layers", "kernel": None, "stride": None,
        "padding": None, "input": shape_text(rows[0].in_shape), "output": shape_text(rows[-1].out_shape),
        "params": t.params, "MACs": t.macs, "r": t.final_rf, "jump": None, "start": None,
    })
    return out


def to_csv(rows: list[Layer]) -> str:
    """The layer table with the CLI's columns and a totals row; shapes as C×H×W."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=RECORD_KEYS, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        rec = r.record()
        rec["in_shape"], rec["out_shape"] = shape_text(r.in_shape), shape_text(r.out_shape)
        writer.writerow(rec)
    t = totals(rows)
    writer.writerow({"name": "total", "params": t.params, "macs": t.macs, "rf": t.final_rf})
    return buf.getvalue()


def to_json(config: str, rows: list[Layer]) -> str:
    t = totals(rows)
    return json.dumps({
        "config": configs.resolve(config).name,
        "input_size": list(rows[0].in_shape[1:]),
        "layers": [r.record() for r in rows],
        "total_params": t.params,
        "total_macs": t.macs,
    }, indent=2)


def to_text(rows: list[Layer]) -> str:
    """An aligned plain-text table for terminals."""
    recs = display_rows(rows)
    cols = list(recs[0])
    cells = [[("" if v is None else f"{v:,}" if isinstance(v, int) else str(v)) for v in rec.values()] for rec in recs]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.rjust(w) if i >= 2 else v.ljust(w) for i, (v, w) in enumerate(zip(row, widths))) for row in cells]
    return "\n".join(lines)


def table1(sep: str = "\n") -> list[dict[str, str]]:
    """The paper's Table 1, regenerated from ``configs.TABLE1``: one row per line, one column per config;
    the layers of a block joined by ``sep``."""
    names = list(configs.TABLE1)
    rows = [{n: f"{configs.Config(n).weight_layers} weight layers" for n in names}]
    rows.append({n: f"input ({configs.DEFAULT_INPUT} × {configs.DEFAULT_INPUT} RGB image)" for n in names})
    for b in range(len(configs.TABLE1["A"])):
        rows.append({n: sep.join(configs.TABLE1[n][b]) for n in names})
        rows.append({n: "maxpool" for n in names})
    rows += [{n: fc for n in names} for fc in configs.CLASSIFIER]
    rows.append({n: "soft-max" for n in names})
    return rows


def comparison(input_size=configs.DEFAULT_INPUT) -> list[dict]:
    """Per configuration: totals from the layer table beside the paper's Tables 2 and 3."""
    out = []
    for c in configs.ALL:
        t = totals(layer_table(c, input_size))
        top1, top5 = configs.PAPER_ERROR.get(c.paper, (None, None)) if not c.batch_norm else (None, None)
        out.append({
            "config": c.name, "torchvision": c.torchvision_name or "—", "weight layers": c.weight_layers,
            "params": t.params, "params (M)": round(t.params / 1e6, 1),
            "paper Table 2 (M)": None if c.batch_norm else configs.PAPER_PARAMS_M[c.paper],
            "GMACs": round(t.macs / 1e9, 3), "final r": t.final_rf,
            "paper top-1 err %": top1, "paper top-5 err %": top5,
        })
    return out
