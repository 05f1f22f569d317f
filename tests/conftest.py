"""Shared fixtures. The repository root is on sys.path (pyproject's pythonpath) so tests import
``vggviz`` and the pages' ``ui`` module the way Streamlit does."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")


@pytest.fixture(scope="session")
def torch():
    """torch is a hard dependency: a broken install fails here, it is never skipped."""
    import torch

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    return torch


@pytest.fixture(autouse=True)
def _english_after_each_test():
    """A test may speak another language in its own thread (AppTest reads widgets through their translated
    labels in the test's thread); the next test starts in English again."""
    yield
    from vggviz import i18n

    i18n.set_language(i18n.DEFAULT)


def pytest_sessionfinish(session, exitstatus):
    """Write the table of hostile cases tried in this run (issue: hardening) next to the screenshots."""
    import report

    path = report.write()
    if path is not None:
        print(f"\nhostile cases: {path}")


@pytest.fixture(scope="module")
def one_torch_thread():
    """torch on one thread for a module of many tiny steps (feature visualisation): on a shared 2-core machine
    the second thread spin-waits, and those runs took 10× longer. Put back afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def front_end(tmp_path_factory):
    """deploy/assets.py's copy of Streamlit's front end, compressed once for the session (about 25 s of two
    cores), in ``CACHE/vggviz/assets`` as serve.py finds it with ``XDG_CACHE_HOME=CACHE`` (the copy's
    ``parents[2]``). Fails without nginx in CI, as the tests that use it would."""
    from haproxy_class import need_nginx

    from deploy import assets

    need_nginx()
    return assets.prepare(tmp_path_factory.mktemp("cache") / "vggviz" / "assets")


SMALL_HEAD = 64  # hidden width of the training engine's head under ``small_head``


@pytest.fixture
def small_head(monkeypatch):
    """The training engine builds its models with 64-wide hidden layers instead of torchvision's 4096 (the
    checkpoint format's): the same layers, modes, freezing and optimiser, without the 120 M-parameter head
    whose Xavier draws, optimiser steps and 0.5 GB checkpoint writes cost seconds each. For tests whose point
    is not the checkpoint's format (those load it into torchvision's vgg and keep the full head)."""
    from functools import partial

    from vggviz.architecture.model import build_model
    from vggviz.train import network

    monkeypatch.setattr(network, "build_model", partial(build_model, hidden=SMALL_HEAD))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing test that used a class behind HAProxy (tests/haproxy_class.py) shows the end of HAProxy's log:
    each request's replica, timers, status and termination state, the only witness of a proxy failure seen once
    in CI."""
    report = yield
    if report.failed:
        for name, value in getattr(item, "funcargs", {}).items():
            log = getattr(value, "log", None)
            if isinstance(log, Path) and log.exists():
                tail = log.read_text(errors="replace").splitlines()[-80:]
                report.sections.append((f"HAProxy log of {name}, last {len(tail)} lines", "\n".join(tail)))
    return report
