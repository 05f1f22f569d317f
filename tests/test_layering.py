"""The house's layering (/work/shared/LAYOUT.md, GUIDE.md): no import circles among the modules of ``vggviz/``,
``ui/``, ``bench/`` and ``pages/``; an engine that imports no UI; each floor of ``vggviz/`` importing nothing from
the floors above it. The graph is read from the source with ``ast``: module-level imports and those inside
functions (a lazy import that closes a circle is still a circle), relative imports resolved."""

from __future__ import annotations

import ast
from collections import deque
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("vggviz", "ui", "bench", "pages")

# The engine is UI-free: no module of vggviz/ imports these (top-level names).
UI = ("ui", "pages", "app", "streamlit")

# LAYOUT.md's floors, as far as they hold today: a part of vggviz/ -> the parts it must not import. i18n, text
# and glossary are the ground floor; architecture stands on them; photo on architecture; explain and learned on
# photo, side by side; evaluate on photo and explain (why.py draws Grad-CAM of the mistakes: above explain, not
# beside it as LAYOUT.md draws it); the command line on everything.
ABOVE_ARCHITECTURE = ("photo", "explain", "learned", "evaluate", "train", "jobs", "cli")
FLOORS: dict[str, tuple[str, ...]] = {
    "vggviz.i18n": ("architecture", "glossary", *ABOVE_ARCHITECTURE),
    "vggviz.text": ("architecture", "glossary", *ABOVE_ARCHITECTURE),
    "vggviz.glossary": ("architecture", *ABOVE_ARCHITECTURE),
    "vggviz.architecture": ABOVE_ARCHITECTURE,
    "vggviz.photo": ("explain", "learned", "evaluate", "train", "jobs", "cli"),
    "vggviz.explain": ("learned", "evaluate", "train", "jobs", "cli"),
    "vggviz.learned": ("explain", "train", "jobs", "cli"),  # reads photo collections with evaluate's archive reader
    "vggviz.evaluate": ("learned", "train", "jobs", "cli"),
    # reads data with evaluate's reader, scores with its metrics; the job queue (jobs/) runs it, not the reverse
    "vggviz.train": ("explain", "learned", "jobs", "cli"),
    # the job queue runs the trainer (jobs/training.py): above train, below the command line
    "vggviz.jobs": ("cli",),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@lru_cache(maxsize=1)
def sources() -> dict[str, Path]:
    return {module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


def imported(module: str, path: Path, known: set[str]) -> list[tuple[str, int]]:
    """Every module ``module`` imports, as absolute dotted names with their line, wherever the import statement
    stands. ``from a import b`` names the submodule ``a.b`` where there is one of ours, else ``a``."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: up from this module's package, one level per dot after the first
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1])
                frm = f"{base}.{node.module}" if node.module else base
            else:
                frm = node.module
            out += [(f"{frm}.{a.name}" if f"{frm}.{a.name}" in known else frm, node.lineno) for a in node.names]
    return out


@lru_cache(maxsize=1)
def graph() -> tuple[dict[str, set[str]], dict[tuple[str, str], str], dict[str, list[tuple[str, int]]]]:
    """Edges between our own modules, where each edge stands (path:line), and every import of each module."""
    mods = sources()
    edges: dict[str, set[str]] = {m: set() for m in mods}
    where: dict[tuple[str, str], str] = {}
    raw = {m: imported(m, path, set(mods)) for m, path in mods.items()}
    for m, names in raw.items():
        for name, line in names:
            if name in mods and name != m:
                edges[m].add(name)
                where.setdefault((m, name), f"{mods[m].relative_to(ROOT)}:{line}")
    return edges, where, raw


def cycles(edges: dict[str, set[str]]) -> list[tuple[list[str], list[str]]]:
    """Each strongly connected component of more than one module (Tarjan): its modules, and one shortest circle
    through the first of them."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    components: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(edges):
        if v not in index:
            visit(v)
    out = []
    for component in components:  # breadth first from its first module, inside it, back to that module
        start = min(component)
        previous: dict[str, str] = {}
        queue = deque([start])
        while queue:
            v = queue.popleft()
            if start in edges[v]:
                path = [v]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                out.append((sorted(component), path[::-1] + [start]))
                break
            for w in sorted(edges[v] & component):
                if w not in previous and w != start:
                    previous[w] = v
                    queue.append(w)
    return out


def test_no_import_circles():
    edges, where, _ = graph()
    found = cycles(edges)
    report = [f"  {', '.join(members)}, e.g. " + " → ".join(c) + "\n"
              + "\n".join(f"      {a} → {b}: {where[a, b]}" for a, b in zip(c, c[1:])) for members, c in found]
    assert not found, "import circles (shared machinery gets a module of its own):\n" + "\n".join(report)


def test_the_engine_imports_no_ui():
    _, _, raw = graph()
    wrong = [f"{sources()[m].relative_to(ROOT)}:{line} imports {name}" for m, names in raw.items()
             if m.split(".")[0] == "vggviz" for name, line in names if name.split(".")[0] in UI]
    assert not wrong, "the engine is UI-free:\n" + "\n".join(wrong)


@pytest.mark.parametrize("floor", sorted(FLOORS))
def test_no_floor_imports_a_floor_above_it(floor):
    edges, where, _ = graph()
    forbidden = tuple(f"vggviz.{p}" for p in FLOORS[floor])
    wrong = [f"{where[m, n]}: {m} imports {n}" for m in edges if m == floor or m.startswith(floor + ".")
             for n in sorted(edges[m]) if any(n == f or n.startswith(f + ".") for f in forbidden)]
    assert not wrong, f"{floor} imports from a floor above it:\n" + "\n".join(wrong)


def test_the_reader_finds_every_kind_of_import(tmp_path):
    """Module-level, inside functions, relative at any depth, ``from package import submodule`` (else the tests
    above could pass on a graph that misses the very imports that close a circle)."""
    source = tmp_path / "mod.py"
    source.write_text("import os\nfrom . import sibling\nfrom .sibling import thing\nfrom .. import top\n"
                      "from ..other.deep import name\n\n\ndef lazy():\n    from pkg.sub import sibling\n"
                      "    import pkg.other.deep\n")
    known = {"pkg.sub.sibling", "pkg.top", "pkg.other.deep"}
    assert imported("pkg.sub.mod", source, known) == [
        ("os", 1), ("pkg.sub.sibling", 2), ("pkg.sub.sibling", 3), ("pkg.top", 4), ("pkg.other.deep", 5),
        ("pkg.sub.sibling", 9), ("pkg.other.deep", 10)]
    (tmp_path / "__init__.py").write_text("from . import mod\n")
    assert imported("pkg.sub", tmp_path / "__init__.py", {"pkg.sub.mod"}) == [("pkg.sub.mod", 1)]
    edges, _, _ = graph()
    assert sum(map(len, edges.values())) > 100  # the real house has its few hundred arrows


def test_cycles_finds_a_circle_and_only_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [(["a", "b", "c"], ["a", "b", "c", "a"])]
    assert cycles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []
