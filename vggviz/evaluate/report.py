"""An evaluation as the command line writes it: JSON (figures), CSV (one row per photo), or text for a
person. JSON keys and CSV columns are a contract and stay English; the text is translated."""

from __future__ import annotations

import csv
import io
import json

from ..i18n import _
from .run import Evaluation

CSV_COLUMNS = ("file", "true", "predicted", "prob", "correct")
TEXT_MISTAKES = 10


def as_dict(ev: Evaluation) -> dict:
    """``confusion[i][j]``: photos of true class ``classes[i]`` predicted as ``classes[j]``. Undefined
    ratios (see ``metrics``) are None (JSON null)."""
    m = ev.metrics
    return {
        "images": len(ev.predictions),
        "skipped": [{"file": s.file, "reason": str(s.reason)} for s in ev.skipped],
        "classes": list(ev.classes),
        "accuracy": m.accuracy,
        "top5_accuracy": m.top5_accuracy,
        "per_class": [{"class": c.name, "precision": c.precision, "recall": c.recall, "f1": c.f1,
                       "support": c.support} for c in m.per_class],
        "confusion": m.confusion.tolist(),
        "mistakes": [{"file": p.file, "true": ev.classes[p.true], "predicted": ev.classes[p.predicted],
                      "prob": p.prob} for p in ev.mistakes()],
    }


def to_json(ev: Evaluation) -> str:
    return json.dumps(as_dict(ev), indent=2, ensure_ascii=False) + "\n"


def to_csv(ev: Evaluation) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for p in ev.predictions:
        writer.writerow([p.file, ev.classes[p.true], ev.classes[p.predicted], repr(p.prob),
                         "true" if p.correct else "false"])
    return out.getvalue()


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def to_text(ev: Evaluation, model: str) -> str:
    m = ev.metrics
    correct = sum(p.correct for p in ev.predictions)
    lines = [_("{name}: {images} photos evaluated, {skipped} skipped, {seconds:.1f} s ({model})",
               name=ev.name, images=len(ev.predictions), skipped=len(ev.skipped), seconds=ev.seconds, model=model),
             _("Accuracy: {accuracy:.1%} ({correct} of {images})", accuracy=m.accuracy, correct=correct,
               images=len(ev.predictions))]
    if m.top5_accuracy is not None:
        lines.append(_("Top-5 accuracy: {accuracy:.1%}", accuracy=m.top5_accuracy))
    rows = [[_("Class"), _("Precision"), _("Recall"), "F1", _("Support")]]
    rows += [[c.name, _percent(c.precision), _percent(c.recall), _percent(c.f1), str(c.support)]
             for c in m.per_class]
    lines += ["", *_table(rows), "", _("Confusion matrix (rows: true class, columns: predicted class, numbered as "
                                        "above):")]
    lines += _table([["", *map(str, range(len(ev.classes)))]]
                    + [[f"{i} {name}", *map(str, row)] for i, (name, row) in enumerate(zip(ev.classes, m.confusion))])
    mistakes = ev.mistakes()
    if mistakes:
        lines += ["", _("Most confident mistakes:")]
        lines += ["  " + _("{file}: {true}, predicted {predicted} ({prob:.1%})", file=p.file,
                           true=ev.classes[p.true], predicted=ev.classes[p.predicted], prob=p.prob)
                  for p in mistakes[:TEXT_MISTAKES]]
    if ev.skipped:
        lines += ["", _("Skipped:")] + [f"  {s.reason}" for s in ev.skipped]
    return "\n".join(lines) + "\n"


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
            .rstrip() for row in rows]
