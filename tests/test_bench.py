"""The bench's own output: Streamlit's "missing ScriptRunContext" warnings are silenced there, and only there."""

import subprocess
import sys

BARE = """
import sys
if sys.argv[1] == "bench":
    import bench.run  # noqa: F401
import streamlit as st
st.markdown("outside any script run")  # what the bench's AppTest and cache calls do, hundreds of times
"""


def test_bench_silences_missing_script_run_context_and_nothing_else():
    said = {}
    for mode in ("bench", "package"):
        out = subprocess.run([sys.executable, "-c", BARE, mode], capture_output=True, text=True, check=True)
        said[mode] = out.stderr
    assert "missing ScriptRunContext" in said["package"]  # the warning exists: the package does not hide it
    assert "missing ScriptRunContext" not in said["bench"]


def test_training_figures_have_the_tables_shape(one_torch_thread):
    """The training figures (issue 23) at a toy size: one row each, a ratio against its bare baseline."""
    import torch

    from bench import run, train_speed

    cpu = torch.device("cpu")
    rows = [train_speed.cache(cpu, 1, photos=2, size=32, workers=0), train_speed.head_epoch(cpu, 1, photos=4, batch=2),
            train_speed.full_step(cpu, 1, batch=1, size=32)]
    assert [r["figure"] for r in rows] == ["train_cache", "train_head_epoch", "train_step"]
    for r in rows:
        assert {"figure", "what", "value", "unit", "baseline", "baseline_value", "ratio", "target", "ok"} <= set(r)
        assert r["ratio"] > 0 and r["target"] == train_speed.TARGETS[r["figure"]] and isinstance(r["ok"], bool)
    assert rows[0].get("at_least") is True
    assert "train" in run.FIGURES
    assert "train_cache" in run.table(rows, {"device": "cpu", "cores": 2, "torch": torch.__version__})


def test_the_shared_server_training_figures_are_registered_and_the_memory_row_has_the_tables_shape():
    """The memory figure at a toy size (4 and 16 photos, in the queue's worker); the Predict-while-training
    figure needs the real server and a browser's worth of protocol, run by ``python -m bench --only
    train_server`` (docs/training.md quotes it)."""
    import torch

    from bench import run, train_server

    row = train_server.memory_flat(photos=4)
    assert row["figure"] == "train_memory" and row["unit"] == "MB" and row["target"] == 1.1
    assert row["value"] > 100 and row["baseline_value"] > 100 and isinstance(row["ok"], bool)  # torch, vgg11
    assert "KB a photo" in row["what"]
    assert "train_server" in run.FIGURES and set(train_server.TARGETS) == {"train_predict", "train_memory"}
    assert "train_memory" in run.table([row], {"device": "cpu", "cores": 2, "torch": torch.__version__})
