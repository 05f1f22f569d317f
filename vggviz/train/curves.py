"""The Train page's live charts, from the events a run reports (``progress.BatchProgress`` and
``progress.EpochRecord``): loss and accuracy per epoch (train and val) and per batch (smoothed), the learning
rate and photos per second, several runs overlaid in one figure; and the per-class accuracy of an epoch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from .. import text
from ..i18n import _

SMOOTHING = 0.8  # weight of the past in the per-batch curves' moving average (TensorBoard's slider)
COLOURS = qualitative.Plotly


@dataclass
class Run:
    """One run's events, split by kind (what the charts need)."""

    label: str
    batches: list = field(default_factory=list)  # BatchProgress of the training phase
    epochs: list = field(default_factory=list)  # EpochRecord

    @classmethod
    def of(cls, label: str, events: Sequence) -> Run:
        run = cls(label)
        for e in events:
            if hasattr(e, "train_loss"):
                run.epochs.append(e)
            elif getattr(e, "phase", None) == "train" and e.loss is not None:
                run.batches.append(e)
        return run


def smooth(values: Sequence[float], weight: float = SMOOTHING) -> list[float]:
    """Exponential moving average, debiased so that the first points are not pulled towards zero."""
    out, average = [], 0.0
    for i, v in enumerate(values, start=1):
        average = weight * average + (1 - weight) * v
        out.append(average / (1 - weight ** i))
    return out


def _position(b) -> float:
    """Where a batch lies on the epoch axis: epoch 1's last batch at 1.0."""
    return b.epoch - 1 + b.batch / max(1, b.batches)


def curves(runs: Sequence[Run]) -> go.Figure:
    """Loss, accuracy, learning rate and photos per second against epochs, one colour per run."""
    fig = make_subplots(rows=2, cols=2, horizontal_spacing=0.08, vertical_spacing=0.14, subplot_titles=(
        _("Loss"), _("Accuracy"), _("Learning rate"), _("Photos per second")))
    for i, run in enumerate(runs):
        colour = COLOURS[i % len(COLOURS)]
        name = text.plotly(run.label)
        x = [_position(b) for b in run.batches]
        for col, attr in ((1, "loss"), (2, "acc")):
            fig.add_trace(go.Scatter(
                x=x, y=smooth([getattr(b, attr) for b in run.batches]), mode="lines", legendgroup=name,
                name=_("{run}: train, per batch (smoothed)", run=name), showlegend=col == 1,
                line=dict(color=colour, width=1), opacity=0.45), row=1, col=col)
            epochs = [e.epoch for e in run.epochs]
            fig.add_trace(go.Scatter(
                x=epochs, y=[getattr(e, f"train_{attr}") for e in run.epochs], mode="lines+markers",
                legendgroup=name, name=_("{run}: train, per epoch", run=name), showlegend=col == 1,
                line=dict(color=colour)), row=1, col=col)
            fig.add_trace(go.Scatter(
                x=epochs, y=[getattr(e, f"val_{attr}") for e in run.epochs], mode="lines+markers",
                legendgroup=name, name=_("{run}: val, per epoch", run=name), showlegend=col == 1,
                line=dict(color=colour, dash="dash"), marker=dict(symbol="diamond")), row=1, col=col)
        for col, attr in ((1, "lr"), (2, "photos_per_s")):
            fig.add_trace(go.Scatter(x=x, y=[getattr(b, attr) for b in run.batches], mode="lines",
                                     legendgroup=name, showlegend=False, name=name, line=dict(color=colour)),
                          row=2, col=col)
    fig.update_xaxes(rangemode="tozero")
    fig.update_xaxes(title_text=_("Epoch"), row=2)  # under the lower charts only: the upper ones' would meet the titles
    fig.update_yaxes(rangemode="tozero")
    fig.update_yaxes(tickformat=".0%", range=[0, 1.02], row=1, col=2)
    fig.update_yaxes(exponentformat="power", row=2, col=1)
    fig.update_layout(height=620, legend=dict(orientation="h", y=-0.12), margin=dict(t=40))
    return fig


def per_class_chart(classes: Sequence[str], accuracy: Sequence[float | None], epoch: int) -> go.Figure:
    """An epoch's val accuracy of each class (recall), a bar per class; a class without val photos has none."""
    names = [text.plotly(c) for c in classes]
    fig = go.Figure(go.Bar(x=[a if a is not None else 0 for a in accuracy], y=names, orientation="h",
                           text=[f"{a:.0%}" if a is not None else "—" for a in accuracy], textposition="auto",
                           hovertemplate="%{y}: %{text}<extra></extra>"))
    fig.update_xaxes(title_text=_("Val accuracy of the class"), tickformat=".0%", range=[0, 1])
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_layout(title=_("Per class, epoch {epoch}", epoch=epoch),
                      height=max(300, min(900, 80 + 26 * len(classes))))
    return fig
