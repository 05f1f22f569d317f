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
    rows = [train_speed.cache(cpu, 1, photos=2, size=32), train_speed.head_epoch(cpu, 1, photos=4, batch=2),
            train_speed.full_step(cpu, 1, batch=1, size=32)]
    assert [r["figure"] for r in rows] == ["train_cache", "train_head_epoch", "train_step"]
    for r in rows:
        assert {"figure", "what", "value", "unit", "baseline", "baseline_value", "ratio", "target", "ok"} <= set(r)
        assert r["ratio"] > 0 and r["target"] == train_speed.TARGETS[r["figure"]] and isinstance(r["ok"], bool)
    assert rows[0].get("at_least") is True
    assert "train" in run.FIGURES
    assert "train_cache" in run.table(rows, {"device": "cpu", "cores": 2, "torch": torch.__version__})
