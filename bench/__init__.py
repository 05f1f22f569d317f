"""vggviz's benchmark suite: ``python -m bench`` (not part of the test run)."""
