"""Reading a folder or a zip of class folders (ImageFolder's layout: ``daisy/001.jpg``, inside at most a
chain of single leading folders such as ``flower_data/val/``) without trusting it.

Zips are read in memory, member by member, and never extracted, so no name can write anywhere. Before
anything is read the archive is checked as a whole: the number of entries and the size of its directory
(from the end record, before ``zipfile`` parses that directory), names that point outside it (refused:
no honest archive has them), and zip bombs: the total uncompressed size and each large member's
compression ratio. Single members that cannot be photos (symbolic links, nested archives, encrypted or
oversized members, files outside class folders) are skipped and listed with the reason. Folders on disk
get the same rules: symbolic links are not followed, files are opened with ``O_NOFOLLOW``.

What archivers and file managers leave (``__MACOSX/``, ``.DS_Store`` and other dotfiles, ``Thumbs.db``,
``desktop.ini``) is ignored, and files that are not photos by their suffix (a ``README.txt``) do not stop
the search for the class folders through a leading folder: they are listed as outside the class folders.
"""

from __future__ import annotations

import io
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol

from PIL import Image

from ..photo import images
from .errors import EvaluationError, Found, Skip, Skipped

MAX_FILES = 10_000
MAX_MEMBER_BYTES = images.MAX_BYTES  # larger members could not be decoded anyway: never read them
MAX_TOTAL_BYTES = 2 * 1024**3  # uncompressed, all members together
MAX_RATIO = 100  # photos barely compress; a large member that shrank more than this is a bomb
RATIO_FLOOR = 1024**2  # small members (text, tiny PNGs) may compress well: only larger ones are judged
MAX_DIRECTORY_BYTES = MAX_FILES * 1024  # the zip's central directory, parsed into memory by zipfile
ARCHIVE_SUFFIXES = (".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".zst", ".jar")
JUNK = ("__macosx", "thumbs.db", "ehthumbs.db", "desktop.ini")  # left by archivers and file managers; ignored
# Suffixes of the formats the decoder opens: a file without one beside the leading folder is no photo.
PHOTO_SUFFIXES = frozenset(ext for ext, fmt in Image.registered_extensions().items() if fmt in images.FORMATS)
_DRIVE = re.compile(r"^[A-Za-z]:")


class Reader(Protocol):
    def read(self, key: str) -> bytes: ...


@dataclass(frozen=True)
class Listing:
    """What a folder or archive holds: class folder -> its files (keys the reader reads, in sorted order;
    an empty list for an empty folder), and what was left out."""

    name: str
    reader: Reader
    folders: dict[str, list[str]]
    skipped: list[Skipped] = field(default_factory=list)
    found: Found | None = None  # what lies where the class folders are, for the messages of a refused layout

    @property
    def files(self) -> int:
        return sum(len(keys) for keys in self.folders.values())


def open_path(path: str | Path) -> Listing:
    """A folder, or a zip file, on disk."""
    path = Path(path)
    if path.is_dir():
        return open_folder(path)
    if path.is_file():
        return open_zip(path, path.name)
    raise EvaluationError("not_found", path=str(path))


# --- zips ------------------------------------------------------------------------------------------

class ZipReader:
    """Members of one zip (bytes in memory, or a path), opened once per process: DataLoader workers
    each open their own handle instead of sharing a file position."""

    def __init__(self, source: bytes | Path) -> None:
        self.source = source
        self._zip: zipfile.ZipFile | None = None
        self._pid = -1

    def read(self, key: str) -> bytes:
        if self._zip is None or self._pid != os.getpid():
            handle = io.BytesIO(self.source) if isinstance(self.source, bytes) else self.source
            self._zip, self._pid = zipfile.ZipFile(handle), os.getpid()
        # zipfile stops at the declared size (checked at listing), and the CRC check catches a lie.
        with self._zip.open(key) as member:
            return member.read(MAX_MEMBER_BYTES + 1)

    def __getstate__(self) -> dict:
        return {"source": self.source, "_zip": None, "_pid": -1}


def open_zip(source: bytes | Path, name: str) -> Listing:
    """List a zip of class folders, refusing hostile archives as a whole (EvaluationError)."""
    try:
        handle = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")
    except OSError as exc:
        raise EvaluationError("not_found", path=str(source)) from exc
    with handle:
        _check_directory(handle, name)
        try:
            with zipfile.ZipFile(handle) as zf:
                infos = zf.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
            raise EvaluationError("not_zip", name=name) from None
    if len(infos) > MAX_FILES:
        raise EvaluationError("too_many_files", name=name, limit=MAX_FILES)
    files, dirs, skipped, total = [], set(), [], 0
    for info in infos:
        member = info.filename
        if _unsafe(member):
            raise EvaluationError("unsafe_name", name=name, member=member)
        parts = _parts(member)
        if not parts or _junk(parts):
            continue
        if info.is_dir():
            dirs.add(parts)
            continue
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise EvaluationError("bomb", name=name, member=member, limit=MAX_RATIO,
                                  ratio=info.file_size / max(info.compress_size, 1))
        reason = _member_skip(info, member)
        if reason is not None:
            skipped.append(Skipped(member, reason))
            continue
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise EvaluationError("too_large", name=name, limit_mb=MAX_TOTAL_BYTES // 2**20)
        files.append((parts, member))
    return _layout(name, ZipReader(source), files, dirs, skipped)


def _check_directory(handle, name: str) -> None:
    # zipfile parses the whole central directory into objects on opening: refuse one that announces too
    # many entries or bytes before it does. The end record is read with zipfile's own (private) reader.
    try:
        end = zipfile._EndRecData(handle)
    except OSError:
        end = None
    if not end:
        raise EvaluationError("not_zip", name=name)
    if end[zipfile._ECD_ENTRIES_TOTAL] > MAX_FILES or end[zipfile._ECD_SIZE] > MAX_DIRECTORY_BYTES:
        raise EvaluationError("too_many_files", name=name, limit=MAX_FILES)
    handle.seek(0)


def _member_skip(info: zipfile.ZipInfo, member: str) -> Skip | None:
    if stat.S_ISLNK(info.external_attr >> 16):
        return Skip("symlink", file=member)
    if info.flag_bits & 0x1:
        return Skip("encrypted", file=member)
    if member.lower().endswith(ARCHIVE_SUFFIXES):
        return Skip("nested_archive", file=member)
    if info.file_size > MAX_MEMBER_BYTES:
        return Skip("too_large", file=member, size_mb=info.file_size / 2**20, limit_mb=MAX_MEMBER_BYTES // 2**20)
    return None


def _unsafe(member: str) -> bool:
    name = member.replace("\\", "/")
    return name.startswith("/") or bool(_DRIVE.match(name)) or ".." in name.split("/")


def _parts(member: str) -> tuple[str, ...]:
    return tuple(p for p in member.replace("\\", "/").split("/") if p and p != ".")


def _junk(parts: tuple[str, ...]) -> bool:
    return any(p.startswith(".") or p.lower() in JUNK for p in parts)


def _photo(parts: tuple[str, ...]) -> bool:
    return PurePosixPath(parts[-1]).suffix.lower() in PHOTO_SUFFIXES


# --- folders ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FolderReader:
    root: Path

    def read(self, key: str) -> bytes:
        path = self.root / key
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise Skip("not_a_file", file=key)
            return fh.read(MAX_MEMBER_BYTES + 1)


def open_folder(root: Path) -> Listing:
    """List a folder of class folders; symbolic links are listed as skipped, never followed."""
    files, dirs, skipped, count = [], set(), [], 0
    stack = [()]
    while stack:
        here = stack.pop()
        try:
            entries = list(os.scandir(root.joinpath(*here)))
        except OSError as exc:
            skipped.append(Skipped("/".join(here) + "/", Skip("unreadable", file="/".join(here) + "/",
                                                              reason=exc.strerror or type(exc).__name__)))
            continue
        for entry in entries:
            parts = (*here, entry.name)
            key = "/".join(parts)
            if _junk(parts):
                continue
            count += 1
            if count > MAX_FILES:
                raise EvaluationError("too_many_files", name=root.name, limit=MAX_FILES)
            if entry.is_symlink():
                skipped.append(Skipped(key, Skip("symlink", file=key)))
            elif entry.is_dir(follow_symlinks=False):
                dirs.add(parts)
                stack.append(parts)
            elif not entry.is_file(follow_symlinks=False):
                skipped.append(Skipped(key, Skip("not_a_file", file=key)))
            elif key.lower().endswith(ARCHIVE_SUFFIXES):
                skipped.append(Skipped(key, Skip("nested_archive", file=key)))
            elif (size := entry.stat(follow_symlinks=False).st_size) > MAX_MEMBER_BYTES:
                skipped.append(Skipped(key, Skip("too_large", file=key, size_mb=size / 2**20,
                                                 limit_mb=MAX_MEMBER_BYTES // 2**20)))
            else:
                files.append((parts, key))
    return _layout(root.name or str(root), FolderReader(root), files, dirs, skipped)


# --- layout ----------------------------------------------------------------------------------------

def _layout(name: str, reader: Reader, files: list[tuple[tuple[str, ...], str]], dirs: set[tuple[str, ...]],
            skipped: list[Skipped]) -> Listing:
    """Class folders under the root, after descending through single leading folders that hold no photos
    beside them (``flower_data/val/``, ``wrapper/`` beside a ``README.txt``); files outside a class folder
    and empty class folders are skipped."""
    for parts, _ in files:
        dirs.update(parts[:k] for k in range(1, len(parts)))

    def photos_in(folder: tuple[str, ...]) -> bool:
        return any(p[:-1] == folder and _photo(p) for p, _ in files)

    prefix: tuple[str, ...] = ()
    while True:
        below = _children(dirs, prefix)
        if len(below) != 1 or photos_in(prefix):
            break
        child = (*prefix, below[0])
        if not _children(dirs, child) or photos_in(child):
            break  # the single folder is itself the (only) class folder
        prefix = child
    depth = len(prefix)
    folders: dict[str, list[str]] = {folder: [] for folder in _children(dirs, prefix)}
    beside = [parts[-1] for parts, _ in files if parts[:-1] == prefix]
    found = Found(name, "/".join(prefix) + "/" if prefix else "", tuple(folders),
                  tuple(f for f in beside if _photo((f,))), tuple(f for f in beside if not _photo((f,))))
    for parts, key in sorted(files, key=lambda f: f[1]):
        if parts[:depth] != prefix or len(parts) == depth + 1:
            skipped.append(Skipped(key, Skip("outside_class", file=key)))  # beside or above the class folders
        else:
            folders[parts[depth]].append(key)
    if not folders:
        raise EvaluationError("no_class_folders", name=name, found=found)
    for folder, keys in folders.items():
        if not keys:
            shown = str(PurePosixPath(*prefix, folder)) + "/"
            skipped.append(Skipped(shown, Skip("empty_class", file=shown)))
    return Listing(name, reader, folders, skipped, found)


def _children(dirs: set[tuple[str, ...]], prefix: tuple[str, ...]) -> list[str]:
    n = len(prefix)
    return sorted({d[n] for d in dirs if len(d) > n and d[:n] == prefix})


# --- every photo, whatever the layout (dataset examples) ---------------------------------------------
# The same checks as ``open_zip`` / ``open_folder`` without the class-folder layout: a collection of photos
# may be flat, nested, or in class folders. The scans duplicate those two functions' loops (they were being
# edited on another branch when this was added): ``open_zip`` / ``open_folder`` can become
# ``_layout(name, *scan_zip(...))`` / ``_layout(name, *scan_folder(...))`` once both have landed.

@dataclass(frozen=True)
class Photos:
    """Every file of a folder or archive that may be a photo (keys the reader reads, sorted), and what was
    left out before reading (links, nested archives, oversized files)."""

    name: str
    reader: Reader
    files: list[str]
    skipped: list[Skipped] = field(default_factory=list)


Scan = tuple[Reader, list[tuple[tuple[str, ...], str]], set[tuple[str, ...]], list[Skipped]]


def scan_zip(source: bytes | Path, name: str) -> Scan:
    """(reader, [(parts, key)] of the members that may be photos, folders, skipped), refusing hostile
    archives as a whole (EvaluationError), as ``open_zip`` does."""
    try:
        handle = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")
    except OSError as exc:
        raise EvaluationError("not_found", path=str(source)) from exc
    with handle:
        _check_directory(handle, name)
        try:
            with zipfile.ZipFile(handle) as zf:
                infos = zf.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
            raise EvaluationError("not_zip", name=name) from None
    if len(infos) > MAX_FILES:
        raise EvaluationError("too_many_files", name=name, limit=MAX_FILES)
    files, dirs, skipped, total = [], set(), [], 0
    for info in infos:
        member = info.filename
        if _unsafe(member):
            raise EvaluationError("unsafe_name", name=name, member=member)
        parts = _parts(member)
        if not parts or _junk(parts):
            continue
        if info.is_dir():
            dirs.add(parts)
            continue
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise EvaluationError("bomb", name=name, member=member, limit=MAX_RATIO,
                                  ratio=info.file_size / max(info.compress_size, 1))
        reason = _member_skip(info, member)
        if reason is not None:
            skipped.append(Skipped(member, reason))
            continue
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise EvaluationError("too_large", name=name, limit_mb=MAX_TOTAL_BYTES // 2**20)
        files.append((parts, member))
    return ZipReader(source), files, dirs, skipped


def scan_folder(root: Path) -> Scan:
    """As ``scan_zip`` for a folder on disk: symbolic links are listed as skipped, never followed."""
    files, dirs, skipped, count = [], set(), [], 0
    stack = [()]
    while stack:
        here = stack.pop()
        try:
            entries = list(os.scandir(root.joinpath(*here)))
        except OSError as exc:
            skipped.append(Skipped("/".join(here) + "/", Skip("unreadable", file="/".join(here) + "/",
                                                              reason=exc.strerror or type(exc).__name__)))
            continue
        for entry in entries:
            parts = (*here, entry.name)
            key = "/".join(parts)
            if _junk(parts):
                continue
            count += 1
            if count > MAX_FILES:
                raise EvaluationError("too_many_files", name=root.name, limit=MAX_FILES)
            if entry.is_symlink():
                skipped.append(Skipped(key, Skip("symlink", file=key)))
            elif entry.is_dir(follow_symlinks=False):
                dirs.add(parts)
                stack.append(parts)
            elif not entry.is_file(follow_symlinks=False):
                skipped.append(Skipped(key, Skip("not_a_file", file=key)))
            elif key.lower().endswith(ARCHIVE_SUFFIXES):
                skipped.append(Skipped(key, Skip("nested_archive", file=key)))
            elif (size := entry.stat(follow_symlinks=False).st_size) > MAX_MEMBER_BYTES:
                skipped.append(Skipped(key, Skip("too_large", file=key, size_mb=size / 2**20,
                                                 limit_mb=MAX_MEMBER_BYTES // 2**20)))
            else:
                files.append((parts, key))
    return FolderReader(root), files, dirs, skipped


def open_photos(source: str | Path | bytes, name: str | None = None) -> Photos:
    """Every photo of a folder, a zip file on disk, or a zip's bytes (named ``name``), in any layout."""
    if isinstance(source, bytes):
        reader, files, _, skipped = scan_zip(source, name or "archive.zip")
    else:
        path = Path(source)
        if path.is_dir():
            reader, files, _, skipped = scan_folder(path)
        elif path.is_file():
            reader, files, _, skipped = scan_zip(path, name or path.name)
        else:
            raise EvaluationError("not_found", path=str(path))
        name = name or path.name or str(path)
    return Photos(name, reader, sorted(key for _, key in files), sorted(skipped, key=lambda s: s.file))
