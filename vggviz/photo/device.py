"""Device choice: CUDA, then Apple MPS, then CPU, with a plain-words notice when a choice cannot be honoured."""

from __future__ import annotations

import torch

from ..i18n import Items, N_, Text, TranslatableError

CHOICES = ("auto", "cpu", "cuda", "mps")


class DeviceError(TranslatableError, ValueError):
    MESSAGES = {"unknown": N_("unknown device {choice!r}; choose one of {choices}")}


def mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


def available() -> list[str]:
    """The device choices that can run here, ``auto`` first."""
    return ["auto", "cpu"] + (["cuda"] if torch.cuda.is_available() else []) + (["mps"] if mps_available() else [])


def resolve(choice: str = "auto") -> tuple[torch.device, Text | None]:
    """The device to use and, when the choice could not be honoured, a notice saying so (a sentence made
    in the reader's language where it is shown)."""
    choice = (choice or "auto").lower()
    if choice not in CHOICES:
        raise DeviceError("unknown", choice=choice, choices=Items(CHOICES))
    if choice in ("auto", "cuda") and torch.cuda.is_available():
        return torch.device("cuda"), None
    if choice in ("auto", "mps") and mps_available():
        return torch.device("mps"), None
    if choice in ("cuda", "mps"):
        return torch.device("cpu"), Text(N_("{device} is not available here; running on the CPU instead."),
                                         device=choice.upper())
    return torch.device("cpu"), None


def describe(device: torch.device) -> str:
    """The device's name as people write it (the same in every language)."""
    if device.type == "cuda":
        return f"CUDA ({torch.cuda.get_device_name(device)})"
    return {"mps": "Apple MPS", "cpu": "CPU"}.get(device.type, str(device))
