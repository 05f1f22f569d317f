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
