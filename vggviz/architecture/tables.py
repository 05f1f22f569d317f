"""Tables derived from the layer table: display rows, CSV, plain text, JSON, the paper's Table 1
regenerated, and the per-configuration comparison. Torch-free.

Records keep English keys (pages filter and configure columns by them; CSV and JSON keys are a documented
interface); the headers a person reads are ``COLUMNS`` / ``COMPARISON_COLUMNS``, translated where shown
(``_(COLUMNS[key])``, or ``headed`` for a table shown as is). Display values with words are made in the
current language."""

from __future__ import annotations

import csv
import io
import json
import unicodedata

from ..i18n import N_, _
from . import configs
from .layers import RECORD_KEYS, Layer, layer_table, totals

# Display headers of ``display_rows``' keys, marked for the catalogue.
COLUMNS = {
    "layer": N_("layer"), "type": N_("type"), "kernel": N_("kernel"), "stride": N_("stride"),
    "padding": N_("padding"), "input": N_("input"), "output": N_("output"), "params": N_("params"),
    "MACs": N_("MACs"), "r": N_("r"), "jump": N_("jump"), "start": N_("start"),
}
# Display headers of ``comparison``'s keys.
COMPARISON_COLUMNS = {
    "config": N_("config"), "torchvision": N_("torchvision"), "weight layers": N_("weight layers"),
    "params": N_("params"), "params (M)": N_("params (M)"), "paper Table 2 (M)": N_("paper Table 2 (M)"),
    "GMACs": N_("GMACs"), "final r": N_("final r"), "paper top-1 err %": N_("paper top-1 err %"),
    "paper top-5 err %": N_("paper top-5 err %"),
}


def headed(records: list[dict], columns: dict[str, str] = COLUMNS) -> list[dict]:
    """The records with their keys replaced by the headers of ``columns`` in the current language."""
    return [{_(columns[k]) if k in columns else k: v for k, v in rec.items()} for rec in records]


def shape_text(shape: tuple[int, ...]) -> str:
    return "×".join(str(d) for d in shape)


def display_rows(rows: list[Layer]) -> list[dict]:
    """One dict per layer plus a totals row, for ``st.dataframe`` and text output (keys: ``COLUMNS``; the totals
    row's words in the current language)."""
    out = []
    for r in rows:
        out.append({
            "layer": r.name, "type": r.type, "kernel": r.kernel, "stride": r.stride, "padding": r.padding,
            "input": shape_text(r.in_shape), "output": shape_text(r.out_shape),
            "params": r.params, "MACs": r.macs, "r": r.rf, "jump": r.jump, "start": r.start,
        })
    t = totals(rows)
    out.append({
        "layer": _("total"), "type": _("{n} weight layers", n=t.weight_layers), "kernel": None, "stride": None,
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
    """An aligned plain-text table for terminals, headers in the current language."""
    recs = headed(display_rows(rows))
    cols = list(recs[0])
    cells = [[("" if v is None else f"{v:,}" if isinstance(v, int) else str(v)) for v in rec.values()] for rec in recs]
    widths = [max(_width(c), *(_width(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(_pad(c, w) for c, w in zip(cols, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(_pad(v, w, right=i >= 2) for i, (v, w) in enumerate(zip(row, widths))) for row in cells]
    return "\n".join(lines)


def _width(text: str) -> int:
    """Terminal columns ``text`` takes: Chinese characters are two wide (East Asian Width W / F)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    fill = " " * (width - _width(text))
    return fill + text if right else text + fill


def table1(sep: str = "\n") -> list[dict[str, str]]:
    """The paper's Table 1, regenerated from ``configs.TABLE1``: one row per line, one column per config;
    the layers of a block joined by ``sep``; words in the current language."""
    names = list(configs.TABLE1)
    rows = [{n: _("{n} weight layers", n=configs.Config(n).weight_layers) for n in names}]
    rows.append({n: _("input ({size} × {size} RGB image)", size=configs.DEFAULT_INPUT) for n in names})
    for b in range(len(configs.TABLE1["A"])):
        rows.append({n: sep.join(configs.TABLE1[n][b]) for n in names})
        rows.append({n: _("maxpool") for n in names})
    rows += [{n: fc for n in names} for fc in configs.CLASSIFIER]
    rows.append({n: _("soft-max") for n in names})
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
