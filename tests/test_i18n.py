"""The translation catalogue against the code: every string marked for translation has a non-empty
Chinese translation with the same placeholders, and the catalogue holds nothing the code no longer
says. Extraction is babel's (the tool translators use), not a regex of ours."""

from __future__ import annotations

import pathlib
import re
import string

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from vggviz import i18n
from vggviz.i18n import N_, Items, TranslatableError, Text, _, ngettext

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOURCES = ("app.py", "pages", "ui", "vggviz")
KEYWORDS = {**DEFAULT_KEYWORDS, "Text": None}


def extracted() -> dict[str, list[str]]:
    """msgid -> where it is used ("file:line"), for every marked string in the app and the engine."""
    found: dict[str, list[str]] = {}
    for source in SOURCES:
        path = ROOT / source
        if path.is_file():
            from babel.messages.extract import extract_from_file

            items = ((path.name, *item) for item in extract_from_file("python", path, keywords=KEYWORDS))
        else:
            items = extract_from_dir(path, method_map=[("**.py", "python")], keywords=KEYWORDS)
        for filename, lineno, message, _comments, _context in items:
            msgid = message[0] if isinstance(message, tuple) else message  # a plural entry is keyed by its singular
            if msgid:
                found.setdefault(msgid, []).append(f"{source}/{filename}:{lineno}")
    return found


def code_plurals() -> dict[str, str]:
    """singular -> plural, for every ngettext call in the app and the engine."""
    found = {}
    for source in SOURCES:
        path = ROOT / source
        if path.is_dir():
            for _f, _l, message, _c, _x in extract_from_dir(path, method_map=[("**.py", "python")], keywords=KEYWORDS):
                if isinstance(message, tuple) and len(message) == 2 and all(message):
                    found[message[0]] = message[1]
    return found


def catalogue(lang: str):
    with open(i18n.catalogue_path(lang), "rb") as fh:
        return read_po(fh, locale=i18n.FOLDERS[lang])


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@pytest.mark.parametrize("lang", list(i18n.FOLDERS))
def test_every_marked_string_is_translated(lang):
    cat = catalogue(lang)
    missing = []
    for msgid, where in sorted(extracted().items()):
        entry = cat.get(msgid)
        if entry is None or not (entry.string if isinstance(entry.string, str) else all(entry.string)):
            missing.append(f"{msgid!r} ({where[0]})")
    assert not missing, f"{len(missing)} strings have no {lang} translation:\n" + "\n".join(missing)


@pytest.mark.parametrize("lang", list(i18n.FOLDERS))
def test_translations_keep_placeholders_and_catalogue_has_no_stale_or_duplicate_entries(lang):
    code = extracted()
    cat = catalogue(lang)
    wrong = [m.id for m in cat if m.id and isinstance(m.string, str) and m.string
             and fields(m.string) != fields(m.id if isinstance(m.id, str) else m.id[0])]
    # Plural entries: every form keeps the fields of both English forms, and the code's plural is the catalogue's.
    wrong += [m.id for m in cat if m.id and not isinstance(m.id, str)
              and any(fields(form) != fields(m.id[0]) | fields(m.id[1]) for form in m.string)]
    plurals = {m.id[0]: m.id[1] for m in cat if m.id and not isinstance(m.id, str)}
    wrong += [(one, many) for one, many in code_plurals().items() if plurals.get(one) != many]
    assert not wrong, f"translations whose {{fields}} differ from the English: {wrong}"
    ids = [m.id if isinstance(m.id, str) else m.id[0] for m in cat if m.id]
    stale = [i for i in ids if i not in code]
    assert not stale, f"catalogue entries the code no longer uses: {stale}"
    raw = i18n.catalogue_path(lang).read_text(encoding="utf-8")
    entries = re.findall(r'^msgid ((?:".*"\n)+)', raw, flags=re.M)
    seen, twice = set(), []
    for entry in entries:
        if entry in seen:
            twice.append(entry.strip())
        seen.add(entry)
    assert not twice, f"msgids that appear twice in the catalogue: {twice}"


def test_translation_follows_the_thread_language_and_fills_fields():
    with i18n.use("zh"):
        assert _("Feature maps") == "特征图"
        assert _("Feature maps") != "Feature maps"
    assert _("Feature maps") == "Feature maps"
    assert _("{n} of {m}", n=1, m=2) == "1 of 2"  # unknown strings come back as written, filled
    assert ngettext("{n} file", "{n} files", 2) == "2 files"
    assert ngettext("{n} file", "{n} files", 1) == "1 file"
    assert N_("kept as is") == "kept as is"


def test_language_negotiation():
    assert i18n.negotiate("zh", "en-US") == "zh"
    assert i18n.negotiate("EN", "zh-CN") == "en"
    assert i18n.negotiate("klingon", "zh-Hans-CN") == "zh"  # an unknown ?lang= falls back silently
    assert i18n.negotiate(None, "zh_TW") == "zh"
    assert i18n.negotiate(None, "fr-FR") == "en"
    assert i18n.negotiate(None, None) == "en"
    assert i18n.from_environment({"LANG": "zh_CN.UTF-8"}) == "zh"
    assert i18n.from_environment({"LANGUAGE": "fr:en", "LANG": "zh_CN.UTF-8"}) == "en"
    assert i18n.from_environment({"LANG": "C.UTF-8"}) == "en"


class _Example(TranslatableError):
    MESSAGES = {"known": N_("Feature maps")}


def test_coded_errors_and_deferred_text_are_made_in_the_readers_language():
    import pickle

    err = _Example("known")
    note = Text("Feature maps")
    with i18n.use("zh"):
        assert str(err) == "特征图" and f"{note}" == "特征图"
    assert str(err) == "Feature maps" and str(note) == "Feature maps"
    again = pickle.loads(pickle.dumps(err))
    assert (type(again), again.code, again.params) == (_Example, "known", {})
    with pytest.raises(KeyError):
        _Example("no such code")


class _Listing(TranslatableError):
    MESSAGES = {"names": N_("{field}: {names} also belong.")}


def test_listed_names_are_joined_in_the_readers_language():
    """A list made in one thread reads right in another's language: ", " in English, "、" in Chinese."""
    import pickle

    err = _Listing("names", field="A", names=Items(["B", "C", "D"]))
    folders = Text("{field}: {names} also belong.", field="A", names=Items(["a", "b"], more=3))
    assert str(err) == "A: B, C, D also belong." and str(folders) == "A: a, b, … (+3) also belong."
    with i18n.use("zh"):
        assert str(err) == "A：B、C、D 也应选上。"
        assert str(folders) == "A：a、b……（另有 3 个） 也应选上。"
    assert str(pickle.loads(pickle.dumps(err))) == str(err) and str(Items([])) == "" and str(Items(["x"])) == "x"
    clauses = Items([Text("missing {key}", key="a"), Text("unexpected {key}", key="b")], pattern="{items}; {item}")
    assert str(clauses) == "missing a; unexpected b"
    with i18n.use("zh"):
        assert str(clauses) == "缺少 a；多出 b"
