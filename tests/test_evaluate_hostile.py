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


# --- what archivers leave beside a leading folder, and refused layouts ----------------------------

LITTER = {"README.txt": b"Flowers for the VGG lesson", ".DS_Store": b"\x00\x00\x00\x01Bud1",
          "__MACOSX/wrapper/daisy/._a.png": b"\x00\x05\x16\x07", "wrapper/Thumbs.db": b"\xd0\xcf",
          "wrapper/desktop.ini": b"[.ShellClassInfo]", "wrapper/.hidden.png": GOOD["daisy/a.png"]}


@pytest.fixture(scope="module")
def unnamed(tmp_path_factory):
    """The planted checkpoint without class_indices.json: its classes have no names (class 0, 1, ...)."""
    ckpt, _ = planted.save_checkpoint(tmp_path_factory.mktemp("unnamed"))
    return planted.load(ckpt, None)


def _in_wrapper(files: dict[str, bytes]) -> dict[str, bytes]:
    return {f"wrapper/{name}": data for name, data in files.items()}


def _write(root, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)


def test_a_readme_and_archivers_litter_beside_the_leading_folder_leave_the_real_classes(lm, unnamed, tmp_path):
    """Issue 21: README.txt beside the one leading folder made that folder the only "class folder"."""
    files = {**_in_wrapper(GOOD), **LITTER}
    for model in (lm, unnamed):  # named classes; ImageFolder's order (the planted model has 6 classes)
        extra = {} if model is lm else {f"wrapper/{c}/x.png": GOOD["daisy/a.png"] for c in ("e", "f", "g", "h")}
        with report.measured("zip (evaluate)", "wrapper/ beside README.txt, __MACOSX/, .DS_Store") as row:
            listing = archive.open_zip(_zip({}, {**files, **extra}), "flowers.zip")
            ev = evaluate(model, listing, workers=0, transform=planted.small())
            row["outcome"] = f"skipped {len(ev.skipped)}, evaluated {len(ev.predictions)}"
            row["message"] = "; ".join(f"{s.file}: {_both(s.reason)}" for s in ev.skipped)
        assert sorted(listing.folders) == sorted(["daisy", "tulips", *(c for c in "efgh" if extra)])
        assert len(ev.predictions) == 2 + len(extra)
        assert [(s.file, s.reason.code) for s in ev.skipped] == [("README.txt", "outside_class")]
    named = evaluate(lm, archive.open_zip(_zip({}, files), "f.zip"), workers=0, transform=planted.small())
    assert {p.file: named.classes[p.true] for p in named.predictions} == {
        "wrapper/daisy/a.png": "daisy", "wrapper/tulips/b.png": "tulips"}
    # The same on disk, where Windows and macOS leave the same files.
    root = tmp_path / "val"
    _write(root, {**files, "Wrapper-notes.md": b"# notes", "THUMBS.DB": b"\xd0\xcf"})
    listing = archive.open_path(root)
    assert sorted(listing.folders) == ["daisy", "tulips"] and listing.files == 2
    assert sorted(s.file for s in listing.skipped) == ["README.txt", "Wrapper-notes.md"]


def _refusal(model, files: dict[str, bytes], case: str) -> EvaluationError:
    with report.measured("zip (evaluate)", case) as row:
        with pytest.raises(EvaluationError) as err:
            evaluate(model, archive.open_zip(_zip({}, files), "flowers.zip"), workers=0, transform=planted.small())
        row["outcome"], row["message"] = "refused", _both(err.value)
    assert "\n" not in row["message"]
    return err.value


def test_a_refused_layout_says_what_was_found(lm, unnamed):
    photo = GOOD["daisy/a.png"]
    flat = {**{f"IMG_{i:04d}.jpg": photo for i in range(7)}, "README.md": b"#", ".DS_Store": b"\x00"}
    err = _refusal(lm, flat, "photos and a README, no folders")
    assert err.code == "no_class_folders"
    assert str(err).endswith("flowers.zip holds no folders, 7 photos (IMG_0000.jpg, IMG_0001.jpg, IMG_0002.jpg, "
                             "IMG_0003.jpg and 3 more) and 1 other file (README.md).")
    with i18n.use("zh"):
        assert str(err).endswith("flowers.zip 的内容：没有文件夹；7 张照片（IMG_0000.jpg、IMG_0001.jpg、IMG_0002.jpg、"
                                 "IMG_0003.jpg，另有 3 个）；1 个其他文件（README.md）。")

    # A photo beside the leading folder keeps it as the one class folder: the model without names needs 6.
    beside = {**_in_wrapper(GOOD), "cover.jpg": photo, "README.txt": b"hi", "notes.pdf": b"%PDF"}
    err = _refusal(unnamed, beside, "a photo and two files beside the leading folder, classes without names")
    assert err.code == "class_count" and "1 class folders" not in str(err)
    assert ("in 6 class folders" in str(err)
            and "flowers.zip holds 1 folder (wrapper/), 1 photo (cover.jpg) and 2 other files (README.txt, "
                "notes.pdf)." in str(err))
    with i18n.use("zh"):
        assert "flowers.zip 的内容：1 个文件夹（wrapper/）；1 张照片（cover.jpg）；2 个其他文件（README.txt、notes.pdf）。" \
            in str(err) and "6 个类别文件夹" in str(err)

    # Folders that match no class, found inside the leading folders.
    err = _refusal(lm, {"val/flowers/weeds/a.png": photo, "val/flowers/daisy/b.png": photo, "val/README.txt": b""},
                   "a folder that matches no class, inside two leading folders")
    assert err.code == "unmatched" and str(err).endswith(
        "val/flowers/ in flowers.zip holds 2 folders (daisy/, weeds/), no photos and no other files.")
    with i18n.use("zh"):
        assert str(err).endswith("flowers.zip 里的 val/flowers/ 的内容：2 个文件夹（daisy/、weeds/）；没有照片；没有其他文件。")
