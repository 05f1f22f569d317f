"""A generated VGG-11 checkpoint whose predictions are known, and photo folders to evaluate it on.

The planted network carries the photo's mean colour through every layer (conv1_1 passes R, G, B shifted
by +1 past the ReLUs, every later conv passes those three channels on, the first fc averages them over
the 7×7 grid) and its last layer is a nearest-centroid classifier: class k's logit is
``SCALE * (2 p_k·c - |p_k|²)`` for colour c and the class's prototype colour p_k, so a plain-coloured
photo is predicted as the class whose colour is nearest. Hidden width 8 keeps the file small (38 MB)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
# Class order of the model (not sorted, so that mapping folders by name is put to the test).
COLOURS = {
    "tulips": (40, 40, 220),
    "daisy": (235, 235, 235),
    "dandelion": (235, 215, 20),
    "roses": (210, 20, 30),
    "sunflowers": (30, 150, 40),
    "irises": (15, 15, 15),
}
CLASSES = list(COLOURS)
HIDDEN = 8
SCALE = 1.5


def state_dict(config: str = "A") -> dict:
    import torch

    from vggviz.architecture.model import build_model

    model = build_model(config, num_classes=len(CLASSES), hidden=HIDDEN, seed=0)
    sd = {k: torch.zeros_like(v) for k, v in model.state_dict().items()}
    convs = [k[:-len(".weight")] for k, v in sd.items() if k.startswith("features.") and v.ndim == 4]
    for n, conv in enumerate(convs):
        for c in range(3):
            sd[f"{conv}.weight"][c, c, 1, 1] = 1.0
        if n == 0:  # normalised input is in [-1, 1]: +1 keeps it through the ReLUs
            sd[f"{conv}.bias"][:3] = 1.0
    cells = 7 * 7
    for c in range(3):
        sd["classifier.0.weight"][c, c * cells:(c + 1) * cells] = 1.0 / cells
        sd["classifier.3.weight"][c, c] = 1.0
    # After "lecture" preprocessing, colour value v (0..255) arrives as 2v/255.
    protos = torch.tensor([COLOURS[k] for k in CLASSES], dtype=torch.float32) * 2 / 255
    sd["classifier.6.weight"][:, :3] = SCALE * 2 * protos
    sd["classifier.6.bias"][:] = -SCALE * (protos ** 2).sum(1)
    return sd


def nearest(colour: tuple[int, int, int]) -> str:
    """The class the planted model predicts for a plain photo of ``colour``."""
    c = np.asarray(colour, np.float64)
    return min(CLASSES, key=lambda k: float(((np.asarray(COLOURS[k]) - c) ** 2).sum()))


def save_checkpoint(folder: Path) -> tuple[Path, Path]:
    import torch

    ckpt, names = folder / "vgg11Net.pth", folder / "class_indices.json"
    torch.save(state_dict(), ckpt)
    names.write_text(json.dumps({str(i): k for i, k in enumerate(CLASSES)}))
    return ckpt, names


def png(colour: tuple[int, int, int], size: tuple[int, int] = (48, 36)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


# Folder -> colours of its photos: mostly its own class's colour, a few of another's (known mistakes).
# No folder for "irises": it appears only as a (wrong) prediction.
def layout(per_class: int = 5) -> dict[str, list[tuple[int, int, int]]]:
    out = {}
    for i, name in enumerate(["daisy", "dandelion", "roses", "sunflowers", "tulips"]):
        r, g, b = COLOURS[name]
        own = [(min(255, r + j), max(0, g - j), b) for j in range(per_class)]
        out[name] = own
    out["daisy"] += [COLOURS["dandelion"], COLOURS["irises"]]  # irises: farthest from daisy, a top-5 miss
    out["roses"] += [COLOURS["tulips"]]
    out["tulips"] += [COLOURS["roses"], (200, 40, 60)]
    return out


def write_folder(root: Path, per_class: int = 5) -> dict[str, str]:
    """Photos in ``root/<class>/NN.png``; returns file (relative) -> class the planted model predicts."""
    expected = {}
    for folder, colours in layout(per_class).items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        for j, colour in enumerate(colours):
            rel = f"{folder}/{j:02d}.png"
            (root / rel).write_bytes(png(colour, (40 + 3 * j, 30 + 2 * j)))
            expected[rel] = nearest(colour)
    return expected


def zip_of(files: dict[str, bytes], **kw) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", kw.pop("compression", zipfile.ZIP_DEFLATED)) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def same_colour_photos(n: int, classes: int = 3) -> dict[str, bytes]:
    """``n`` small photos spread over ``classes`` class folders (for memory and speed runs)."""
    names = CLASSES[:classes]
    return {f"{names[i % classes]}/{i:05d}.png": png(COLOURS[names[i % classes]], (64, 64)) for i in range(n)}


def load(ckpt: Path, names: Path):
    """The saved planted checkpoint, loaded as the app loads a checkpoint (CPU)."""
    from vggviz.photo.inference import load_model

    return load_model("A", "checkpoint", checkpoint=ckpt, classes=names, device="cpu")


def small(size: int = 64):
    """A cheap preprocessing for runs that are not about the 224×224 one (the planted model reads any size)."""
    from torchvision import transforms

    return transforms.Compose([transforms.Resize((size, size)), transforms.ToTensor(),
                               transforms.Normalize((0.5,) * 3, (0.5,) * 3)])


def peak_mb(pid: int | str = "self") -> float:
    """A process's peak resident memory (VmHWM), MB. It belongs to the address space, so unlike getrusage's
    maxrss it is not inherited from the parent through fork and exec (a pytest or bench parent of GBs)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise LookupError("no VmHWM")


class WorkerPeak:
    """A progress callback that keeps the largest peak memory of the DataLoader's live workers, MB."""

    def __init__(self) -> None:
        self.mb = 0.0

    def __call__(self, _progress) -> None:
        import multiprocessing

        for child in multiprocessing.active_children():
            try:
                self.mb = max(self.mb, peak_mb(child.pid))
            except (OSError, LookupError):  # a worker that has just exited
                pass
