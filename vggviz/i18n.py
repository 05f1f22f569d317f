"""Languages: the one translation helper ``_`` over gettext catalogues, and errors that carry a code.

Source strings are English. Translations live in gettext PO files (the format translators' tools
read), one per language: ``vggviz/locale/<folder>/LC_MESSAGES/vggviz.po``. They are read at first
use with babel and compiled in memory into a standard ``gettext.GNUTranslations`` (plural rules
included), so there is no build step.

The language belongs to the thread of execution (a ``ContextVar``): Streamlit runs each session's
script in a thread of its own and sets it at the top of every run (``app.py``); the command line sets
it once from ``--lang``. Results shared by every session (cached models, forward passes) must hold no
translated text: they keep ``Text`` (a template and its parameters) or raise ``TranslatableError``
(a code and parameters), and the sentence is made where it is shown, in the reader's language.
Cached functions that return translated text take the language as an argument, so the cache keys
on it.

Mark strings for the catalogue where they are written: ``_("…", name=value)`` translates now;
``N_("…")`` only marks a template to be translated later (a constant, a code's message).
Placeholders are ``str.format`` fields, filled from keyword arguments after translation.
"""

from __future__ import annotations

import contextlib
import functools
import gettext
import io
import os
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

LANGUAGES: dict[str, str] = {"zh": "中文", "en": "English"}  # code -> its own name, shown as is
DEFAULT = "en"
LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "vggviz"
# Language code -> catalogue folder (gettext's locale names). English is the source: no catalogue.
FOLDERS: dict[str, str] = {"zh": "zh_CN"}

_current: ContextVar[str] = ContextVar("vggviz_language", default=DEFAULT)


def normalise(value: str | None) -> str | None:
    """A language code this app speaks for a tag such as ``zh``, ``zh-CN``, ``zh_Hans``, ``en-GB``;
    None for anything else."""
    if not value:
        return None
    base = str(value).strip().replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else None


def negotiate(query: str | None = None, browser: str | None = None) -> str:
    """The initial language: the ``?lang=`` query parameter, else the browser's, else English."""
    return normalise(query) or normalise(browser) or DEFAULT


def from_environment(environ: Mapping[str, str] | None = None) -> str:
    """The command line's default language, from ``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES`` or ``LANG``."""
    environ = os.environ if environ is None else environ
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        for part in environ.get(var, "").split(":"):
            found = normalise(part.split(".")[0])
            if found:
                return found
    return DEFAULT


def language() -> str:
    """The language of the current thread of execution."""
    return _current.get()


def set_language(lang: str) -> str:
    """Speak ``lang`` (normalised; unknown codes fall back to English) in this thread from now on."""
    lang = normalise(lang) or DEFAULT
    _current.set(lang)
    return lang


@contextlib.contextmanager
def use(lang: str) -> Iterator[str]:
    """Speak ``lang`` inside the ``with`` block only."""
    token = _current.set(normalise(lang) or DEFAULT)
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def catalogue_path(lang: str) -> Path:
    return LOCALE_DIR / FOLDERS[lang] / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=None)
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``lang`` (English: none, the source strings are English)."""
    if lang not in FOLDERS:
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with open(catalogue_path(lang), "rb") as fh:
        catalog = read_po(fh, locale=FOLDERS[lang], domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def _fill(text: str, params: Mapping[str, Any]) -> str:
    return text.format(**params) if params else text


def _(message: str, /, **params: Any) -> str:
    """``message`` in the current language, its ``{fields}`` filled from ``params``."""
    return _fill(translations(_current.get()).gettext(message), params)


def ngettext(singular: str, plural: str, n: int, /, **params: Any) -> str:
    """The singular or plural form for ``n`` in the current language; ``n`` is also a field."""
    return _fill(translations(_current.get()).ngettext(singular, plural, n), {"n": n, **params})


def N_(message: str, /) -> str:
    """Mark ``message`` for the catalogue without translating it (it is translated where it is shown)."""
    return message


class Text:
    """A sentence made where it is shown: an ``N_``-marked template and its parameters.

    For text kept in results that every session shares (a model's notices, a description): ``str()``
    gives it in the reader's language. Parameters may themselves be ``Text`` or ``TranslatableError``."""

    __slots__ = ("template", "params")

    def __init__(self, template: str, /, **params: Any) -> None:
        self.template, self.params = template, params

    def __str__(self) -> str:
        return _(self.template, **self.params)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __repr__(self) -> str:
        return f"Text({self.template!r}, **{self.params!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Text) and (self.template, self.params) == (other.template, other.params)

    def __hash__(self) -> int:
        return hash((self.template, tuple(sorted((k, repr(v)) for k, v in self.params.items()))))


@lru_cache(maxsize=None)
def _list_pattern(lang: str) -> str:
    """CLDR's pattern between two items in the middle of a list ("{0}, {1}", "{0}、{1}"), used for every pair:
    a list of names or choices takes no "and"."""
    from babel import Locale

    return Locale.parse(FOLDERS.get(lang, DEFAULT)).list_patterns["standard"]["middle"]


class Items:
    """Names listed in a sentence, joined where the sentence is made, in the reader's language: CLDR's list
    pattern (through babel), "a, b, c" in English and "a、b、c" in Chinese; or, for clauses, an
    ``N_``-marked ``pattern`` with ``{items}`` and ``{item}`` ("{items}; {item}", in Chinese "{items}；{item}").
    ``more`` names left out are counted after the list. Items may be ``Text``: each is made in the reader's
    language too. A parameter of ``_``, ``Text`` and ``TranslatableError`` like any other."""

    __slots__ = ("items", "more", "pattern")

    def __init__(self, items: Iterable[Any], /, more: int = 0, pattern: str | None = None) -> None:
        self.items, self.more, self.pattern = tuple(items), more, pattern

    def __str__(self) -> str:
        names = [str(i) for i in self.items]
        joined = functools.reduce(self._pair, names) if names else ""
        return _("{items}, … (+{n})", items=joined, n=self.more) if self.more > 0 else joined

    def _pair(self, items: str, item: str) -> str:
        if self.pattern:
            return _(self.pattern, items=items, item=item)
        return _list_pattern(_current.get()).format(items, item)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __repr__(self) -> str:
        return f"Items({self.items!r}, more={self.more}, pattern={self.pattern!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Items) and (self.items, self.more, self.pattern) == (other.items, other.more,
                                                                                         other.pattern)

    def __hash__(self) -> int:
        return hash((self.items, self.more, self.pattern))


class TranslatableError(Exception):
    """An error a person reads. It carries a ``code`` and the parameters of its sentence, never the
    sentence itself: ``str(err)`` makes it in the current language from ``MESSAGES[code]``.

    Subclasses list their codes and (``N_``-marked) English templates in ``MESSAGES``."""

    MESSAGES: ClassVar[dict[str, str]] = {}

    def __init__(self, code: str, /, **params: Any) -> None:
        if code not in self.MESSAGES:
            raise KeyError(f"{type(self).__name__} has no message code {code!r}")
        super().__init__(code, params)
        self.code, self.params = code, params

    def __str__(self) -> str:
        return _(self.MESSAGES[self.code], **self.params)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __reduce__(self):  # picklable (Streamlit's cache_data and multiprocessing copy exceptions)
        return _rebuild, (type(self), self.code, self.params)


def _rebuild(cls: type[TranslatableError], code: str, params: dict[str, Any]) -> TranslatableError:
    return cls(code, **params)
