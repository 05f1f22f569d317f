"""Dynamic batching (vggviz.photo.batching): callers that arrive while a pass runs share the next one, each
gets exactly its own rows, and a real model's batched predictions equal torchvision's one photo at a time."""

from __future__ import annotations

import threading
import time

import pytest
import torch
from torchvision import models as tv_models

from helpers import photo
from vggviz.photo import inference
from vggviz.photo.batching import Batcher

TIMEOUT = 30


def _until(condition, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


class Gate:
    """A pass function that records each batch, holds the first pass until opened, and computes a
    row-wise result (so that a row given to the wrong caller shows)."""

    def __init__(self, fail_when=None):
        self.batches: list[torch.Tensor] = []
        self.open = threading.Event()
        self.fail_when = fail_when

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        self.batches.append(x.clone())
        if len(self.batches) == 1:
            assert self.open.wait(TIMEOUT)
        if self.fail_when is not None and self.fail_when(x):
            raise RuntimeError("this batch failed")
        return x.flatten(1).sum(1, keepdim=True) * 10 + x.flatten(1)[:, :1]


def _callers(batcher: Batcher, inputs: list[torch.Tensor], gate: Gate) -> list:
    """The first input's caller starts a pass that the gate holds; the others queue behind it, one after
    another in their order; then the gate opens. Returns each caller's (output, rows in its pass), or the
    exception it raised."""
    results: list = [None] * len(inputs)

    def call(i: int) -> None:
        try:
            results[i] = batcher.submit(inputs[i])
        except BaseException as exc:  # noqa: BLE001 - compared by the test
            results[i] = exc

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(inputs))]
    threads[0].start()
    _until(lambda: batcher.running, "the first pass")
    for queued, t in enumerate(threads[1:], 1):
        t.start()
        _until(lambda: batcher.pending() == queued, f"caller {queued} to queue")
    gate.open.set()
    for t in threads:
        t.join(TIMEOUT)
    assert not batcher.running and batcher.pending() == 0
    return results


def _inputs(rows: list[int], size: int = 4) -> list[torch.Tensor]:
    return [torch.randn(n, 3, size, size, generator=torch.Generator().manual_seed(i)) for i, n in enumerate(rows)]


def test_callers_queued_during_a_pass_share_the_next_in_arrival_order_and_get_their_own_rows():
    gate = Gate()
    batcher = Batcher(gate, max_rows=8)
    inputs = _inputs([1] * 11)
    results = _callers(batcher, inputs, gate)
    # First come, first served: the second pass holds callers 1-8 in their order, the third 9 and 10.
    assert [len(b) for b in gate.batches] == [1, 8, 2]
    assert torch.equal(gate.batches[1], torch.cat(inputs[1:9])) and torch.equal(gate.batches[2], torch.cat(inputs[9:]))
    assert [rows for _, rows in results] == [1] + [8] * 8 + [2] * 2  # each caller learns its pass's size
    for x, (got, _) in zip(inputs, results):  # another caller's row would differ by whole units
        # a row summed in a batch of 8 vs alone: the reduction may vectorise differently (float rounding)
        torch.testing.assert_close(got, x.flatten(1).sum(1, keepdim=True) * 10 + x.flatten(1)[:, :1])


def test_only_inputs_that_can_be_joined_share_a_pass_and_a_large_input_runs_alone():
    gate = Gate()
    batcher = Batcher(gate, max_rows=8)
    small, other_size, big = _inputs([1, 2]), _inputs([1], size=5), _inputs([10])
    inputs = [small[0], small[1], other_size[0], big[0], _inputs([3])[0], torch.randn(1, 3, 4, 4).double()]
    results = _callers(batcher, inputs, gate)
    sizes = [tuple(b.shape) + (b.dtype,) for b in gate.batches]
    assert sizes == [(1, 3, 4, 4, torch.float32),  # the first, alone
                     (5, 3, 4, 4, torch.float32),  # 2 + 3 rows of the same size and dtype, skipping the others
                     (1, 3, 5, 5, torch.float32),
                     (10, 3, 4, 4, torch.float32),  # more than max_rows: alone
                     (1, 3, 4, 4, torch.float64)]
    for x, (got, _) in zip(inputs, results):  # batched vs alone: float rounding of the row sums only
        torch.testing.assert_close(got, x.flatten(1).sum(1, keepdim=True) * 10 + x.flatten(1)[:, :1])


def test_an_error_reaches_every_caller_of_its_batch_and_no_other():
    inputs = _inputs([1, 1, 1, 1, 1, 1, 1, 1, 1, 1], size=2)
    poisoned = inputs[3][0]
    gate = Gate(fail_when=lambda x: any(torch.equal(r, poisoned) for r in x))
    batcher = Batcher(gate, max_rows=4)
    results = _callers(batcher, inputs, gate)
    assert [len(b) for b in gate.batches] == [1, 4, 4, 1]
    failed = [i for i, r in enumerate(results) if isinstance(r, RuntimeError)]
    assert failed == [1, 2, 3, 4]  # the batch that held input 3
    assert all(isinstance(results[i][0], torch.Tensor) for i in (0, 5, 6, 7, 8, 9))
    # and it still serves (exact: one caller alone, the same call on the same rows)
    assert torch.equal(batcher(inputs[3][:, :, :1]), gate(inputs[3][:, :, :1]))


def test_max_rows_must_be_positive():
    with pytest.raises(ValueError):
        Batcher(lambda x: x, max_rows=0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=["float32", "float16"])
def test_concurrent_predictions_are_batched_and_equal_torchvisions_one_at_a_time(dtype):
    """Six photos through the app's prediction path at once: one pass runs alone, the other five share the
    next; each photo's probabilities equal torchvision's vgg11 (same weights, float32) on that photo alone.
    Half precision as on a GPU, here on the CPU: the joined float32 inputs are cast to the model's dtype."""
    lm = inference.load_model("A", "random")
    reference = tv_models.vgg11().eval()
    reference.load_state_dict(lm.model.state_dict())
    inference.move(lm, torch.device("cpu"), dtype)
    photos = [photo(i) for i in range(6)]
    passes: list[int] = []
    hook = lm.model.register_forward_pre_hook(lambda _m, args: passes.append(len(args[0])))
    results: list = [None] * len(photos)

    def predict(i: int) -> None:
        results[i] = inference.run(lm, photos[i], features=False)

    threads = [threading.Thread(target=predict, args=(i,)) for i in range(len(photos))]
    try:
        with lm.forward_lock:  # the first pass waits here until all have come
            threads[0].start()
            _until(lambda: lm.batcher.running, "the first pass")
            for t in threads[1:]:
                t.start()
            _until(lambda: lm.batcher.pending() == 5, "five photos queued")
        for t in threads:
            t.join(TIMEOUT)
    finally:
        hook.remove()
    assert passes == [1, 5] and not lm.batcher.running
    assert [r.batch for r in results] == [1, 5, 5, 5, 5, 5]  # what Predict's caption says
    with torch.inference_mode():
        for p, got in zip(photos, results):
            alone = torch.softmax(reference(inference.prepare(p, lm.preprocess).unsqueeze(0)), 1)[0]
            # Another photo's probabilities differ by ~4 % (untrained weights): these tolerances tell them apart.
            tolerance = {"rtol": 1e-4, "atol": 1e-6} if dtype == torch.float32 else {"rtol": 2e-3, "atol": 1e-6}
            torch.testing.assert_close(torch.from_numpy(got.probs), alone, **tolerance)
            assert got.features == {}


def test_a_caller_runs_older_inputs_first_then_its_own():
    """Another key queued before this caller (as after a pass ends): the caller runs that input's pass, then its
    own, and both get their rows; nothing is left queued."""
    from vggviz.photo import batching

    seen = []
    batcher = Batcher(lambda x: seen.append(tuple(x.shape)) or x * 2, max_rows=8)
    older = batching._Request(torch.ones(1, 2))
    batcher._queue.append(older)  # queued by a caller that is waiting for a pass to end
    mine = torch.ones(1, 3)
    out, rows = batcher.submit(mine)
    assert seen == [(1, 2), (1, 3)] and rows == 1 and torch.equal(out, mine * 2)  # exact: ×2 of ones
    assert older.done and torch.equal(older.output, torch.ones(1, 2) * 2) and batcher.pending() == 0


def test_a_failed_pass_is_freed_once_its_callers_have_the_error():
    """No reference cycle keeps a failed pass's tensors (on a GPU: its memory) alive until a cycle collection."""
    import gc
    import weakref

    made = []

    def failing(x):
        big = torch.zeros(1000, 1000)
        made.append(weakref.ref(big))
        raise RuntimeError("out of something")

    gc.disable()
    try:
        with pytest.raises(RuntimeError):
            Batcher(failing).submit(torch.ones(1, 3))
        assert made and made[0]() is None
    finally:
        gc.enable()


def test_an_interrupt_stays_in_its_thread_and_the_others_get_an_error():
    gate = Gate()
    calls = []

    def run(x):
        calls.append(len(x))
        if len(calls) == 2:
            raise KeyboardInterrupt  # in the thread that runs the second pass
        return gate(x)

    batcher = Batcher(run, max_rows=8)
    results = _callers(batcher, _inputs([1, 1, 1]), gate)
    assert calls == [1, 2]
    kinds = sorted(type(r).__name__ for r in results[1:])
    assert kinds == ["KeyboardInterrupt", "RuntimeError"]  # the leader of the second pass, and the other caller
    assert isinstance(results[0][0], torch.Tensor) and not batcher.running


def test_a_burst_calls_idle_once_after_its_last_pass():
    gate = Gate()
    idle = []
    batcher = Batcher(gate, max_rows=8, idle=lambda: idle.append(batcher.pending()))
    _callers(batcher, _inputs([1] * 11), gate)
    assert [len(b) for b in gate.batches] == [1, 8, 2] and idle == [0]


def test_a_batch_out_of_gpu_memory_runs_one_photo_at_a_time():
    """A joined pass that raises CUDA's out-of-memory error is run again photo by photo (each photo's logits as
    its own pass gives them), and the model stays where it is."""
    lm = inference.load_model("A", "random")
    x = torch.cat([inference.prepare(photo(i), lm.preprocess).unsqueeze(0) for i in range(3)])
    sizes = []

    def short_of_memory(_module, args):
        sizes.append(len(args[0]))
        if len(args[0]) > 1:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")

    hook = lm.model.register_forward_pre_hook(short_of_memory)
    try:
        got = inference._logits_pass(lm, x)
    finally:
        hook.remove()
    assert sizes == [3, 1, 1, 1] and lm.device.type == "cpu" and not lm.notices
    with torch.inference_mode():
        for i in range(3):
            torch.testing.assert_close(got[i:i + 1], lm.model(x[i:i + 1]), rtol=1e-5, atol=1e-6)
