"""A phone is told from its request's headers (``vggviz.client``), and is sent pictures at its width. The
reference for which browser is a phone's: Playwright's device list (real devices' user agents and screens)."""

from __future__ import annotations

import numpy as np
import pytest

from vggviz import client
from vggviz.photo import render

TABLETS = ("iPad", "Galaxy Tab", "Nexus 7", "Nexus 10", "Kindle", "PlayBook")


@pytest.fixture(scope="module")
def devices() -> dict:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        return {name: dict(d) for name, d in p.devices.items()}


def test_phones_are_told_from_desktops_and_tablets(devices):
    wrong = []
    for name, d in devices.items():
        phone = d["is_mobile"] and not any(t in name for t in TABLETS)
        if client.is_phone(d["user_agent"]) != phone:
            wrong.append(name)
    assert not wrong, wrong
    assert {"Pixel 7", "iPhone 13", "Desktop Chrome", "iPad Mini"} <= set(devices)


def test_the_client_hint_says_phone_for_chromiums_browsers(devices):
    desktop = devices["Desktop Chrome"]["user_agent"]
    assert client.is_phone(desktop, "?1")
    assert not client.is_phone(desktop, "?0")
    assert not client.is_phone(None, None)
    assert client.is_phone(devices["Pixel 7"]["user_agent"], None)


def test_a_phone_gets_a_narrower_feature_map_grid():
    """conv1_1 of a 224×224 photo (64 maps): the desktop's grid is wider than a phone's whole budget."""
    assert client.picture_width(False) == render.DISPLAY_WIDTH
    assert client.picture_width(True) == client.PHONE_WIDTH < render.DISPLAY_WIDTH
    maps = np.random.default_rng(0).random((64, 224, 224), dtype=np.float32)
    phone = render.tile(maps, max_width=client.picture_width(True))
    desktop = render.tile(maps, max_width=client.picture_width(False))
    assert phone.width <= client.PHONE_WIDTH < desktop.width <= render.DISPLAY_WIDTH
