"""The pictures of the READMEs and docs/, written by one command so that they cannot drift from the app:

    python -m docs.pictures [--only NAME ...] [--out DIR]

It starts ``streamlit run app.py`` on 127.0.0.1 itself, opens each page of ``PICTURES`` in Debian's Chromium
through Playwright (``/usr/bin/chromium``: ``apt-get install chromium fonts-noto-cjk``, ``pip install -r
requirements-test.txt``), in the picture's language from both sides (the link's ``?lang=`` and the browser's
locale), waits until the page is drawn as tests/test_browser.py waits (no script run going on, every picture
loaded, every chart and table painted), checks that the sidebar and the whole navigation speak that language,
and writes ``docs/<name>.png`` (1400×1000, the top of the page). Photo pages use the first sample photo and
untrained weights, chosen in the sidebar (this machine cannot download the ImageNet files): configuration D
(VGG-16), the app's default. tests/test_docs.py reads ``PICTURES``: every picture a README or doc shows must be
one of them, and every one of them must be in docs/.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pathlib
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, replace

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]  # REFERENCE.md §6, as the browser tests launch it
LOCALES = {"en": "en-US", "zh": "zh-CN"}
TIMEOUT = 180_000  # ms: a cold VGG-16 on two busy CPU cores


@dataclass(frozen=True)
class Picture:
    page: str  # the page's path in ui/navigation.py
    lang: str  # "en" or "zh"
    query: str = ""  # more of the link, e.g. the lesson's step
    # What the page draws once it is ready (as tests/test_browser.py's CONTENT): pictures, Plotly charts, tables.
    metrics: int = 0
    images: int = 0
    charts: int = 0
    tables: int = 0
    formulas: int = 0  # KaTeX, typeset in the browser

    @property
    def slug(self) -> str:
        return pathlib.Path(self.page).stem

    @property
    def name(self) -> str:
        return f"{self.slug}_{self.lang}"

    @property
    def file(self) -> str:
        """The picture's path from the repository root, as the READMEs link it."""
        return f"docs/{self.name}.png"

    @property
    def photo_page(self) -> bool:
        from ui.navigation import SECTIONS

        return self.page in {p.path for p in list(SECTIONS.values())[-1]}  # "A photo through VGG"


# Each page once; PICTURES has it in both languages.
_PAGES = (
    Picture("pages/home.py", "en", metrics=4),
    # the receptive-field formula with the slides' two examples; the seed keeps the exercise's numbers
    Picture("pages/lesson.py", "en", query="step=6&seed=1", tables=3, formulas=2),
    Picture("pages/architecture.py", "en", metrics=4, tables=1, charts=1),
    Picture("pages/receptive_field.py", "en", images=1),
    Picture("pages/predict.py", "en", images=1, charts=1),
    Picture("pages/feature_maps.py", "en", images=2),
    Picture("pages/attributions.py", "en", images=7),  # the map, its colour bar, the five blocks' strip
)
# Every picture the READMEs and docs/ show.
PICTURES: tuple[Picture, ...] = tuple(replace(p, lang=lang) for lang in LOCALES for p in _PAGES)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def app_server():
    """``streamlit run app.py`` on a free port of 127.0.0.1, with an empty torch hub cache and checkpoint
    folder (nothing of this machine's shows up in a picture); yields its URL."""
    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        env = dict(os.environ, TORCH_HOME=str(pathlib.Path(tmp) / "torch"),
                   VGGVIZ_CHECKPOINTS=str(pathlib.Path(tmp) / "checkpoints"),
                   STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
        env.pop("VGGVIZ_WEIGHTS_URL", None)
        log = pathlib.Path(tmp) / "streamlit.log"
        with open(log, "w") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                 "--server.address", "127.0.0.1", "--server.headless", "true"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
            try:
                url = f"http://127.0.0.1:{port}"
                deadline = time.monotonic() + 90
                while True:
                    try:
                        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                            if r.status == 200:
                                break
                    except OSError:
                        if time.monotonic() > deadline or proc.poll() is not None:
                            raise SystemExit(f"streamlit did not start:\n{log.read_text()[-2000:]}") from None
                        time.sleep(0.3)  # polling a starting server
                yield url
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()


def _ready(page, picture: Picture, expect) -> None:
    """Wait until ``page`` shows ``picture``'s page drawn in its language, with nothing running or stale."""
    from vggviz import i18n
    from vggviz.i18n import _
    from ui.navigation import PAGES

    cjk = re.compile(r"[\u3400-\u9fff]")
    heading = page.get_by_role("heading", level=1).first
    if picture.lang == "zh":
        expect(heading).to_have_text(cjk)
    else:
        expect(heading).not_to_have_text(cjk)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0)
    expect(page.locator('[data-stale="true"]')).to_have_count(0)
    # At least the page's own pictures, charts, tables and formulas, then every one of them that is there.
    if picture.metrics:
        expect(page.get_by_test_id("stMetricValue").nth(picture.metrics - 1)).not_to_be_empty()
    pictures = page.get_by_test_id("stImage").locator("img")
    charts = page.locator(".js-plotly-plot")
    tables = page.get_by_test_id("stDataFrame")
    formulas = page.locator(".katex-display")
    for found, least in ((pictures, picture.images), (charts, picture.charts), (tables, picture.tables),
                         (formulas, picture.formulas)):
        if least:
            expect(found.nth(least - 1)).to_be_visible()
    # Every one that is shown (not in a closed tab or expander) drawn: pictures loaded, charts and grids painted.
    for i in range(pictures.count()):
        if pictures.nth(i).is_visible():
            expect(pictures.nth(i)).to_have_js_property("complete", True)
            expect(pictures.nth(i)).not_to_have_js_property("naturalWidth", 0)
    for i in range(charts.count()):
        if charts.nth(i).is_visible():
            expect(charts.nth(i).locator(".main-svg").first).to_be_visible()
    for i in range(tables.count()):  # the grid's first cell, in the table it keeps for screen readers
        if tables.nth(i).is_visible():
            expect(tables.nth(i).get_by_test_id("glide-cell-0-0")).to_have_text(re.compile(r"\S"))
    expect(page.get_by_test_id("stException")).to_have_count(0)
    # The whole navigation, and the sidebar's own widgets, in the picture's language.
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.locator("a")).to_have_count(len(PAGES))
    with i18n.use(picture.lang):
        for p in PAGES:
            expect(nav).to_contain_text(_(p.title))
        expect(page.get_by_test_id("stSidebar").locator(".st-key-lang")).to_contain_text(_("Language"))
        if picture.page not in ("pages/glossary.py", "pages/compare.py", "pages/lesson.py"):
            expect(page.get_by_test_id("stSidebar").locator(".st-key-config")).to_contain_text(_("Configuration"))
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")  # grids paint


def photograph(browser, url: str, picture: Picture, out: pathlib.Path, expect) -> pathlib.Path:
    """One picture, in a browser session of its own that speaks the picture's language."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale=LOCALES[picture.lang])
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        query = "&".join(q for q in (picture.query, f"lang={picture.lang}") if q)
        slug = "" if picture.page == "pages/home.py" else picture.slug
        page.goto(f"{url}/{slug}?{query}")
        if picture.photo_page:  # untrained weights, chosen as a student would (the third choice)
            weights = page.get_by_test_id("stSidebar").locator(".st-key-weights")
            weights.get_by_test_id("stRadioOption").nth(2).click()
            expect(weights.locator("input").nth(2)).to_be_checked()
        _ready(page, picture, expect)
        path = out / f"{picture.name}.png"
        page.screenshot(path=str(path), full_page=False)
        return path
    finally:
        context.close()


def main(argv: list[str] | None = None) -> None:
    names = [p.name for p in PICTURES]
    parser = argparse.ArgumentParser(prog="python -m docs.pictures", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=names, metavar="NAME", help=f"some of: {', '.join(names)}")
    parser.add_argument("--out", type=pathlib.Path, default=DOCS, help="folder for the pictures (default docs/)")
    args = parser.parse_args(argv)
    if not os.path.exists(CHROMIUM):
        raise SystemExit(f"no Chromium at {CHROMIUM}: apt-get install chromium fonts-noto-cjk")
    from playwright.sync_api import expect, sync_playwright

    sys.path.insert(0, str(ROOT))  # ui and vggviz, as Streamlit imports them
    expect.set_options(timeout=TIMEOUT)
    args.out.mkdir(parents=True, exist_ok=True)
    chosen = [p for p in PICTURES if not args.only or p.name in args.only]
    with app_server() as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for picture in chosen:
            start = time.monotonic()
            path = photograph(browser, url, picture, args.out, expect)
            print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}  "
                  f"({time.monotonic() - start:.0f} s)", flush=True)
        browser.close()


if __name__ == "__main__":
    main()
