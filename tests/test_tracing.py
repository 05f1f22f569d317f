"""Tracing while other sessions run modules: torch.fx replaces nn.Module.__call__ for every thread during a
trace (the cause of a crash the cold classroom test found); under the shared/exclusive lock a module
call waits for the trace instead of failing, and models are traced before they are shared."""

from __future__ import annotations

import threading

import pytest

import torch  # a hard dependency: a broken install fails, never skips
from torch import fx, nn  # noqa: E402


class Holding(nn.Module):
    """A module whose forward, while being traced, waits until told to go on: a trace held open."""

    def __init__(self):
        super().__init__()
        self.entered, self.go_on = threading.Event(), threading.Event()

    def forward(self, x):
        self.entered.set()
        assert self.go_on.wait(30)
        return x + 1


def _during_a_trace(call, lock=None):
    """Run ``call`` in another thread while a model is being traced (under ``lock`` if given); returns
    what the call raised (or None) and whether it ended before the trace did."""
    from vggviz.photo.tracing import MODULES

    holding = Holding()
    model = nn.Sequential(holding, nn.ReLU())
    outcome = {}

    def trace():
        if lock:
            with MODULES.exclusive():
                fx.symbolic_trace(model)
        else:
            fx.symbolic_trace(model)

    def other():
        assert holding.entered.wait(30)
        try:
            if lock:
                with MODULES.shared():
                    call()
            else:
                call()
        except Exception as exc:
            outcome["error"] = exc
        outcome["before_trace_ended"] = not holding.go_on.is_set()

    threads = [threading.Thread(target=trace), threading.Thread(target=other)]
    for t in threads:
        t.start()
    if not lock:
        threads[1].join(30)  # unguarded: the call runs into the trace at once
    else:
        threads[1].join(0.5)  # guarded: it must still be waiting
        assert threads[1].is_alive()
    holding.go_on.set()
    for t in threads:
        t.join(30)
    return outcome.get("error"), outcome["before_trace_ended"]


def test_an_unguarded_module_call_during_a_trace_fails():
    linear = nn.Linear(2, 2)
    error, _ = _during_a_trace(lambda: linear(torch.zeros(1, 2)))
    assert isinstance(error, NameError) and "not installed as a submodule" in str(error)


def test_a_guarded_module_call_waits_for_the_trace_and_succeeds():
    linear = nn.Linear(2, 2)
    out = []
    error, before = _during_a_trace(lambda: out.append(linear(torch.ones(1, 2))), lock=True)
    assert error is None and not before
    torch.testing.assert_close(out[0], linear(torch.ones(1, 2)))


def test_shared_holders_overlap():
    from vggviz.photo.tracing import SharedExclusiveLock

    lock, inside = SharedExclusiveLock(), threading.Barrier(3, timeout=30)

    def holder():
        with lock.shared():
            inside.wait()  # all three inside at once, or the barrier times out

    threads = [threading.Thread(target=holder) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not inside.broken


def test_models_are_traced_before_they_are_shared(tmp_path):
    from vggviz.architecture.model import build_model
    from vggviz.photo.inference import load_model
    from vggviz.photo.tracing import traced

    torch.save(build_model("A", hidden=16, num_classes=3, seed=0).state_dict(), tmp_path / "m.pth")
    lm = load_model("checkpoint", "checkpoint", checkpoint=tmp_path / "m.pth")
    assert "compact_extractor" not in lm.__dict__
    assert traced(lm) is lm and "compact_extractor" in lm.__dict__ and "extractor" in lm.__dict__
