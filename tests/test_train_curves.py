"""The Train page's charts (vggviz/train/curves.py): the smoothed per-batch curve is pandas' exponentially weighted
mean (adjust=True, the same debiasing), each run gets its own colour with train and val per epoch, and the
per-class chart shows each class's figure (none for a class without val photos)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vggviz.train import curves
from vggviz.train.progress import BatchProgress, EpochRecord


def batch(epoch: int, i: int, n: int, loss: float, acc: float, phase: str = "train") -> BatchProgress:
    return BatchProgress(epoch, i, n, loss, acc, 0.01, 10.0, 5.0, phase)


def epoch(e: int, train_acc: float, val_acc: float) -> EpochRecord:
    return EpochRecord(e, 1.0 / e, train_acc, 1.2 / e, val_acc, 0.01, 1.0, [val_acc, None], [[1, 0], [0, 1]])


def test_smoothing_is_the_debiased_exponential_mean():
    values = np.random.default_rng(0).random(50).tolist()
    expected = pd.Series(values).ewm(alpha=1 - curves.SMOOTHING, adjust=True).mean().tolist()
    assert curves.smooth(values) == pytest.approx(expected, rel=1e-12)  # float sums in another order


def test_runs_overlaid_with_their_batches_and_epochs():
    first = curves.Run.of("from scratch", [batch(0, 1, 2, None, None, "features"), batch(1, 1, 2, 0.9, 0.5),
                                           batch(1, 2, 2, 0.8, 0.6), batch(1, 1, 1, 0.7, 0.5, "val"),
                                           epoch(1, 0.55, 0.5)])
    second = curves.Run.of("fine-tune", [batch(1, 1, 1, 0.3, 0.9), epoch(1, 0.9, 0.95), epoch(2, 0.95, 1.0)])
    assert len(first.batches) == 2 and len(first.epochs) == 1  # caching and val batches are not training curves
    fig = curves.curves([first, second])
    assert len(fig.data) == 2 * (3 + 3 + 2)  # per run: loss ×3, accuracy ×3, lr, photos/s
    colours = {t.line.color for t in fig.data if t.legendgroup == "fine-tune"}
    assert len(colours) == 1 and colours != {t.line.color for t in fig.data if t.legendgroup == "from scratch"}
    val_acc = next(t for t in fig.data if t.name == "fine-tune: val, per epoch" and t.xaxis == "x2")
    assert list(val_acc.x) == [1, 2] and list(val_acc.y) == [0.95, 1.0]
    per_batch = next(t for t in fig.data if t.name == "from scratch: train, per batch (smoothed)")
    assert list(per_batch.x) == [0.5, 1.0]  # epoch 1's batches at half and the end of the first epoch


def test_per_class_chart_leaves_a_class_without_val_photos_empty():
    fig = curves.per_class_chart(["daisy", "<b>roses</b>"], [0.75, None], 3)
    bar = fig.data[0]
    assert list(bar.text) == ["75%", "—"] and list(bar.y) == ["daisy", "&lt;b&gt;roses&lt;/b&gt;"]
    assert "3" in fig.layout.title.text
