"""Accuracy, top-5 accuracy, the confusion matrix and per-class precision, recall and F1.

Written here with NumPy (no metrics library is a dependency) and checked in the tests against an
independent computation. Undefined ratios (0/0) are None, as scikit-learn's ``zero_division=np.nan``
gives NaN: precision of a class never predicted, recall of a class with no photos, F1 when both are
empty. F1 is 2·TP / (2·TP + FP + FN), scikit-learn's form, so it is 0, not undefined, when one of
precision and recall is undefined and the other is 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ClassFigures:
    name: str
    precision: float | None
    recall: float | None
    f1: float | None
    support: int  # photos of this class


@dataclass(frozen=True)
class Metrics:
    accuracy: float
    top5_accuracy: float | None  # None with fewer than 5 classes
    confusion: np.ndarray  # (n, n) int64: [i, j] = photos of true class i predicted as class j
    per_class: list[ClassFigures]


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, n: int) -> np.ndarray:
    true, predicted = np.asarray(true, np.int64), np.asarray(predicted, np.int64)
    return np.bincount(true * n + predicted, minlength=n * n).reshape(n, n)


def row_normalised(confusion: np.ndarray) -> np.ndarray:
    """Each row divided by its total (the recall of each class on the diagonal); NaN rows for classes
    with no photos."""
    totals = confusion.sum(axis=1, keepdims=True).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, confusion / totals, np.nan)


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def per_class(confusion: np.ndarray, names: list[str]) -> list[ClassFigures]:
    tp = np.diag(confusion)
    predicted = confusion.sum(axis=0)
    support = confusion.sum(axis=1)
    return [ClassFigures(name, _ratio(int(tp[i]), int(predicted[i])), _ratio(int(tp[i]), int(support[i])),
                         _ratio(2 * int(tp[i]), int(predicted[i]) + int(support[i])), int(support[i]))
            for i, name in enumerate(names)]


def summarise(true: np.ndarray, predicted: np.ndarray, top5: np.ndarray, names: list[str],
              model_classes: int) -> Metrics:
    """Figures for photos of true class ``true[k]`` (index into ``names``) predicted as ``predicted[k]``;
    ``top5[k]``: the true class was among the model's five most probable."""
    confusion = confusion_matrix(true, predicted, len(names))
    images = len(true)
    accuracy = float(np.trace(confusion)) / images if images else 0.0
    top5_accuracy = float(np.mean(top5)) if model_classes >= 5 and images else None
    return Metrics(accuracy, top5_accuracy, confusion, per_class(confusion, names))
