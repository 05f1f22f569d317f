"""Hostile zips for "Evaluate a folder", generated here: archives that are refused as a whole (one coded
error, nothing read or written) and members that are skipped with their reason while the rest is
evaluated. Each case lands in artifacts/hostile-cases.md with its message in English and Chinese."""

from __future__ import annotations

import io
import os
import stat
import zipfile

import numpy as np
import pytest

import planted
import report
from vggviz import i18n
from vggviz.evaluate import archive
from vggviz.evaluate.errors import EvaluationError, Skip
from vggviz.evaluate.run import evaluate

GOOD = {"daisy/a.png": planted.png(planted.COLOURS["daisy"]), "tulips/b.png": planted.png(planted.COLOURS["tulips"])}


def _zip(extra: dict[str, bytes | zipfile.ZipInfo], base: dict[str, bytes] = GOOD, encrypted: str = "") -> bytes:
    """``base`` plus ``extra``; a value that is a ZipInfo is written with its attributes. ``encrypted``: a
    member marked encrypted in the central directory (zipfile writes no encryption; readers go by the flag)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in {**base, **extra}.items():
            if isinstance(data, zipfile.ZipInfo):
                zf.writestr(data, b"../../etc/passwd")
            else:
                zf.writestr(name, data)
        if encrypted:
            zf.getinfo(encrypted).flag_bits |= 0x1
    return buf.getvalue()


def _link(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def _many(n: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for i in range(n):
            zf.writestr(f"daisy/{i}.png", b"")
    return buf.getvalue()


# case -> (zip bytes, code of the EvaluationError that refuses the whole archive, or of the Skip that
# leaves out the one hostile member while the good photos are evaluated; for the decoder's own refusals,
# the member its message names)
CASES = {
    "zip bomb: 4 MB of zeros in 4 kB": (lambda: _zip({"daisy/bomb.png": bytes(4 * 2**20)}), "bomb"),
    "10,001 files": (lambda: _many(archive.MAX_FILES + 1), "too_many_files"),
    "name with ../": (lambda: _zip({"daisy/../../evil.png": GOOD["daisy/a.png"]}), "unsafe_name"),
    "absolute name": (lambda: _zip({"/tmp/evil.png": GOOD["daisy/a.png"]}), "unsafe_name"),
    "Windows drive name": (lambda: _zip({"C:\\evil.png": GOOD["daisy/a.png"]}), "unsafe_name"),
    "not a zip": (lambda: b"PK\x03\x04 but nothing else of a zip", "not_zip"),
    "no class folders": (lambda: _zip({}, {"a.png": GOOD["daisy/a.png"]}), "no_class_folders"),
    "folders that match no class": (lambda: _zip({"weeds/c.png": GOOD["daisy/a.png"]}), "unmatched"),
    "nothing decodable": (lambda: _zip({}, {"daisy/a.png": b"\x89PNG broken"}), "no_images"),
    "symbolic link member": (lambda: _zip({"daisy/link.png": _link("daisy/link.png")}), "symlink"),
    "nested archive": (lambda: _zip({"daisy/more.zip": _zip({})}), "nested_archive"),
    "encrypted member": (lambda: _zip({"daisy/secret.png": b"\x8f" * 200}, encrypted="daisy/secret.png"), "encrypted"),
    "member over 20 MB": (lambda: _zip({"daisy/huge.png": np.random.default_rng(0).bytes(archive.MAX_MEMBER_BYTES
                                                                                           + 1)}), "too_large"),
    "non-image file": (lambda: _zip({"daisy/notes.txt": b"Dear teacher, these are my photos."}), "daisy/notes.txt"),
    "undecodable image": (lambda: _zip({"daisy/cut.png": GOOD["daisy/a.png"][:60]}), "daisy/cut.png"),
    "empty class folder": (lambda: _zip({"irises/": b""}), "empty_class"),
    "file outside the class folders": (lambda: _zip({"README.md": b"# my flowers"}), "outside_class"),
}


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    return planted.load(*planted.save_checkpoint(tmp_path_factory.mktemp("ckpt")))


def _both(err: Exception) -> str:
    with i18n.use("zh"):
        zh = str(err)
    return f"{err} / {zh}"


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_zip(case, lm, tmp_path, monkeypatch):
    make, code = CASES[case]
    data = make()
    monkeypatch.chdir(tmp_path)  # nothing may be written, here or anywhere
    with report.measured("zip (evaluate)", case) as row:
        try:
            ev = evaluate(lm, archive.open_zip(data, "flowers.zip"), workers=0, transform=planted.small())
        except EvaluationError as exc:
            row["outcome"], row["message"], found = "refused", _both(exc), exc
        else:
            skipped = [s for s in ev.skipped]
            row["outcome"] = f"skipped 1, evaluated {len(ev.predictions)}"
            row["message"] = "; ".join(f"{s.file}: {_both(s.reason)}" for s in skipped)
            assert len(skipped) == 1 and len(ev.predictions) == 2, row
            found = skipped[0].reason
    if isinstance(found, (EvaluationError, Skip)):
        assert found.code == code, row
        with i18n.use("zh"):
            assert str(found) != found.MESSAGES[code].format(**found.params)  # said in Chinese too
    else:  # the decoder's own reason, naming the file, as for a single upload
        assert code in str(found), row
    assert "\n" not in row["message"] and row["peak_mb"] < 200
    assert os.listdir(tmp_path) == []


def test_total_uncompressed_size_is_capped(lm, monkeypatch):
    from PIL import Image

    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", 2**20)
    noise = Image.fromarray(np.random.default_rng(1).integers(0, 255, (600, 700, 3), dtype=np.uint8))
    buf = io.BytesIO()
    noise.save(buf, "PNG")
    with report.measured("zip (evaluate)", "more than the total size limit (lowered to 1 MB for the test)") as row:
        with pytest.raises(EvaluationError) as err:
            archive.open_zip(_zip({"daisy/noise.png": buf.getvalue()}), "flowers.zip")
        row["outcome"], row["message"] = "refused", _both(err.value)
    assert err.value.code == "too_large"


def test_a_folder_on_disk_does_not_follow_symbolic_links(lm, tmp_path):
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "private.png").write_bytes(GOOD["daisy/a.png"])
    root = tmp_path / "val"
    for name, data in GOOD.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / "daisy" / "link.png").symlink_to(secret / "private.png")
    (root / "roses").symlink_to(secret, target_is_directory=True)
    with report.measured("folder (evaluate)", "symbolic links to a file and to a folder") as row:
        ev = evaluate(lm, archive.open_path(root), workers=0, transform=planted.small())
        row["outcome"] = f"skipped {len(ev.skipped)}, evaluated {len(ev.predictions)}"
        row["message"] = "; ".join(_both(s.reason) for s in ev.skipped)
    assert sorted(s.file for s in ev.skipped) == ["daisy/link.png", "roses"]
    assert all(s.reason.code == "symlink" for s in ev.skipped) and len(ev.predictions) == 2
