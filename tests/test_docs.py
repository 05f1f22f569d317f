"""The READMEs and docs/ hold together: every relative link leads to a file that exists (and to a heading of it
that exists, for links with an anchor into a Markdown file), and every picture they show is one that
``python -m docs.pictures`` writes (its list, ``PICTURES``, read here as data), in the document's language, with
no picture in docs/ that the command does not write and none in the list that no document shows."""

from __future__ import annotations

import pathlib
import re
import unicodedata
from collections.abc import Iterator

import pytest

from docs.pictures import PICTURES

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCUMENTS = sorted([ROOT / "README.md", ROOT / "README.zh-CN.md", *(ROOT / "docs").rglob("*.md")])
CHINESE = {ROOT / "README.zh-CN.md", *(ROOT / "docs" / "zh-CN").rglob("*.md")}

FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.S | re.M)
CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"(!?)\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.M)


def prose(text: str) -> str:
    """``text`` without fenced code blocks and code spans, where brackets are code, not links."""
    return CODE.sub("", FENCE.sub("", text))


def links(doc: pathlib.Path) -> list[tuple[bool, str]]:
    """(is a picture, target) of every Markdown link and picture in ``doc``."""
    return [(bang == "!", target) for bang, target in LINK.findall(prose(doc.read_text(encoding="utf-8")))]


def relative(target: str) -> bool:
    return not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) and not target.startswith("//")


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: formatting and punctuation dropped, lower case, spaces to hyphens
    (letters of every script, digits, ``-`` and ``_`` kept)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text
    text = text.replace("`", "").replace("*", "").lower()
    kept = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LNM")
    return kept.replace(" ", "-")


def anchors(doc: pathlib.Path) -> Iterator[str]:
    """Every heading's anchor in ``doc`` (a repeated heading gets -1, -2, … as on GitHub)."""
    seen: dict[str, int] = {}
    for heading in HEADING.findall(FENCE.sub("", doc.read_text(encoding="utf-8"))):
        slug = anchor(heading)
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        yield slug if n == 0 else f"{slug}-{n}"


def test_the_documents_are_found():
    names = {d.relative_to(ROOT).as_posix() for d in DOCUMENTS}
    assert {"README.md", "README.zh-CN.md", "docs/command-line.md", "docs/serving.md"} <= names, names
    assert CHINESE, "no Chinese document"


@pytest.mark.parametrize("doc", DOCUMENTS, ids=lambda d: d.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves(doc):
    broken = []
    for _picture, target in links(doc):
        if not relative(target):
            continue
        path, _hash, fragment = target.partition("#")
        file = (doc.parent / path).resolve() if path else doc
        if not file.exists() or ROOT not in (file, *file.parents):
            broken.append(f"{target}: no such file")
        elif fragment and file.suffix == ".md" and fragment not in set(anchors(file)):
            broken.append(f"{target}: no heading #{fragment} in {file.relative_to(ROOT)}")
    assert not broken, broken


def test_the_documents_link_each_other():
    """The READMEs lead to every page of docs/ in their language, through links (not only the pictures)."""
    reached, todo = set(), [ROOT / "README.md", ROOT / "README.zh-CN.md"]
    while todo:
        doc = todo.pop()
        if doc in reached or not doc.is_file():  # a broken link: test_every_relative_link_resolves says so
            continue
        reached.add(doc)
        for picture, target in links(doc):
            path = target.partition("#")[0]
            if not picture and relative(target) and path.endswith(".md"):
                todo.append((doc.parent / path).resolve())
    assert set(DOCUMENTS) <= reached, sorted(d.relative_to(ROOT).as_posix() for d in set(DOCUMENTS) - reached)


def shown() -> dict[pathlib.Path, set[pathlib.Path]]:
    """Each picture file the documents show, and the documents that show it."""
    found: dict[pathlib.Path, set[pathlib.Path]] = {}
    for doc in DOCUMENTS:
        for picture, target in links(doc):
            if picture and relative(target):
                found.setdefault((doc.parent / target.partition("#")[0]).resolve(), set()).add(doc)
    return found


def test_the_picture_command_writes_every_picture_the_documents_show():
    written = {(ROOT / p.file).resolve(): p for p in PICTURES}
    assert len(written) == len(PICTURES), "two pictures with one file name"
    strays = {f.relative_to(ROOT).as_posix() for f in shown() if f not in written}
    assert not strays, f"shown, but not written by python -m docs.pictures: {sorted(strays)}"
    missing = [p.file for p in PICTURES if not (ROOT / p.file).is_file()]
    assert not missing, f"run python -m docs.pictures: {missing} missing"
    unused = [p.file for p in PICTURES if (ROOT / p.file).resolve() not in shown()]
    assert not unused, f"written by python -m docs.pictures but shown nowhere: {unused}"
    leftovers = {f.relative_to(ROOT).as_posix() for f in (ROOT / "docs").rglob("*.png") if f.resolve() not in written}
    assert not leftovers, f"pictures in docs/ that python -m docs.pictures does not write: {sorted(leftovers)}"


def test_each_document_shows_pictures_in_its_own_language():
    by_file = {(ROOT / p.file).resolve(): p for p in PICTURES}
    wrong = [f"{doc.relative_to(ROOT)} shows {f.name}"
             for f, docs in shown().items() if f in by_file
             for doc in docs if by_file[f].lang != ("zh" if doc in CHINESE else "en")]
    assert not wrong, wrong
