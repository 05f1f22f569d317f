"""Evaluating a trained VGG on a folder or zip of class folders (ImageFolder layout). Torch-free here."""

from __future__ import annotations

import os


def default_workers() -> int:
    """Processes that decode photos while the model computes: one core is left to the model, and at most 4
    (decoding takes a fraction of a forward pass)."""
    return max(0, min(4, (os.cpu_count() or 1) - 1))
