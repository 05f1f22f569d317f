"""The pictures of the READMEs and docs/, written by one command so that they cannot drift from the app:

    python -m docs.pictures [--only NAME ... | --phones] [--out DIR]

It starts ``streamlit run app.py`` on 127.0.0.1 itself, opens each page of ``PICTURES`` in Debian's Chromium
through Playwright (``/usr/bin/chromium``: ``apt-get install chromium fonts-noto-cjk``, ``pip install -r
requirements-test.txt``), in the picture's language from both sides (the link's ``?lang=`` and the browser's
locale), waits until the page is drawn as tests/test_browser.py waits (no script run going on, every picture
loaded, every chart and table painted), checks that the sidebar and the whole navigation speak that language,
and writes ``docs/<name>.png`` (1400×1000, the top of the page; ``*_phone_*``: every page on an emulated iPhone 13,
390×1300 CSS pixels, a scrolling screenshot's two screens; ``--phones`` makes only those). Photo pages use the first sample photo and
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
import sys
import tempfile
import time
from dataclasses import dataclass, replace

from docs.browser_app import ARGS, CHROMIUM, AppDidNotStart, app_server
from docs.browser_train import fill_train_form

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
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
    variant: str = ""  # a second picture of one page: its name's middle part
    gallery: bool = False  # the page reads the gallery folder this command prepares (``prepare_gallery``)
    scroll_to: str = ""  # a heading (its English text, shown in the picture's language) brought to the top
    expand: str = ""  # the key of an expander opened before the picture; the picture shows it from its top
    caption: str = ""  # a text (English, shown translated) the page must show before the picture is taken
    caption_args: tuple[tuple[str, object], ...] = ()
    phone: str = ""  # a phone of Playwright's device list (e.g. "iPhone 13"): its screen, at its CSS pixels
    train: bool = False  # a tiny training run first, on the Train page as a student does it (``train_tiny``)

    @property
    def slug(self) -> str:
        return pathlib.Path(self.page).stem

    @property
    def name(self) -> str:
        return "_".join(p for p in (self.slug, self.variant, self.lang) if p)

    @property
    def file(self) -> str:
        """The picture's path from the repository root, as the READMEs link it."""
        return f"docs/{self.name}.png"

    @property
    def photo_page(self) -> bool:
        from ui.navigation import SECTIONS

        # "A photo through VGG", less Train: it picks its data and recipe on the page, not a model in the sidebar.
        return self.page in {p.path for p in list(SECTIONS.values())[-1]} - {"pages/train.py"}


def phone_screen(devices: dict, name: str) -> dict:
    """Playwright's descriptor of the phone ``name`` (viewport, pixel density, touch, user agent) from its
    ``devices`` list, as browser context options for Chromium (which plays every phone here)."""
    return {k: v for k, v in devices[name].items() if k != "default_browser_type"}


# The gallery folder the channel page's pictures read, prepared by the command line (``prepare_gallery``):
# the first 8 channels of VGG-16's conv3_3 at the page's quick preset (untrained weights), and the sample photos'
# dataset examples of that layer.
GALLERY_LAYER, GALLERY_CHANNELS, GALLERY_UNIT = "conv3_3", range(8), 3

# Each page once (the channel page twice); PICTURES has each picture in both languages.
_PAGES = (
    Picture("pages/home.py", "en", metrics=4),
    # the receptive-field formula with the slides' two examples; the seed keeps the exercise's numbers
    Picture("pages/lesson.py", "en", query="step=6&seed=1", tables=3, formulas=1),
    Picture("pages/architecture.py", "en", metrics=4, tables=1, charts=1),
    Picture("pages/receptive_field.py", "en", images=1),
    Picture("pages/predict.py", "en", images=1, charts=1),
    Picture("pages/feature_maps.py", "en", images=2),
    Picture("pages/attributions.py", "en", images=7),  # the map, its colour bar, the five blocks' strip
    # One unit of VGG-16 by its link, its visualisation and dataset examples read from the prepared gallery.
    Picture("pages/channel.py", "en", query=f"config=vgg16&layer={GALLERY_LAYER}&channel={GALLERY_UNIT}",
            images=4, gallery=True, scroll_to="Feature visualisation"),
    # The layer gallery of the same layer: the prepared channels as one grid.
    Picture("pages/channel.py", "en", query=f"config=vgg16&layer={GALLERY_LAYER}&channel={GALLERY_UNIT}",
            variant="gallery", images=1, gallery=True, expand="ch_gallery_box",
            caption="{layer}: {ready} of {n} channels ready",
            caption_args=(("layer", GALLERY_LAYER), ("ready", len(GALLERY_CHANNELS)), ("n", len(GALLERY_CHANNELS)))),
)
# A student's own VGG: a tiny run on the Train page (its live curves), and the checkpoint it wrote opened in
# Evaluate on the same photos; both run the training in the app's own job queue, in the picture's language.
TRAINED = (
    Picture("pages/train.py", "en", charts=3, train=True),
    Picture("pages/evaluate.py", "en", variant="trained", charts=1, tables=1, train=True),
)
TRAIN_ZIP, TRAIN_PER_CLASS, TRAIN_EPOCHS = "shapes.zip", 12, 3
PHONE = "iPhone 13"  # the narrowest of the two phones tests/test_browser_phones.py checks (390 px)
PHONE_SHOT_HEIGHT = 1300  # px: about two of its screens (664 px), so that a photo page's results are in the picture
# Every page on a phone, as a student opens it (the channel page without a prepared gallery); what each draws.
PHONE_PAGES = tuple(replace(p, variant="phone", phone=PHONE) for p in (
    Picture("pages/home.py", "en", metrics=4),
    Picture("pages/lesson.py", "en", query="step=6&seed=1", tables=3, formulas=1),
    Picture("pages/architecture.py", "en", metrics=4, tables=1, charts=1),
    Picture("pages/compare.py", "en", tables=1, charts=2),
    Picture("pages/arithmetic.py", "en", tables=4),
    Picture("pages/receptive_field.py", "en", images=1),
    Picture("pages/glossary.py", "en", tables=2),
    Picture("pages/predict.py", "en", images=1, charts=1),
    Picture("pages/feature_maps.py", "en", images=2),
    Picture("pages/attributions.py", "en", images=7),
    Picture("pages/channel.py", "en", query=f"config=vgg16&layer={GALLERY_LAYER}&channel={GALLERY_UNIT}"),
    Picture("pages/evaluate.py", "en"),
    Picture("pages/train.py", "en"),
))
# Every picture the READMEs and docs/ show.
PICTURES: tuple[Picture, ...] = tuple(replace(p, lang=lang) for lang in LOCALES
                                      for p in (*_PAGES, *PHONE_PAGES, *TRAINED))


def prepare_gallery(folder: pathlib.Path) -> None:
    """What a teacher prepares before class, with the commands a teacher uses: the layer's first channels
    (``python -m vggviz visualize --channels``, the page's quick preset) and the sample photos' dataset
    examples (``python -m vggviz examples``), untrained VGG-16, in the gallery folder ``folder``."""
    import subprocess

    from vggviz.learned import visualize

    quick, channels = visualize.QUICK, GALLERY_CHANNELS
    env = dict(os.environ, VGGVIZ_GALLERY=str(folder))
    common = ["--weights", "random", "--device", "cpu", "--lang", "en"]
    for args in (["visualize", "vgg16", "--layer", GALLERY_LAYER, "--channels", f"{channels[0]}-{channels[-1]}",
                  "--steps", str(quick.steps), "--size", str(quick.size), "--upsample", "none"],
                 ["examples", "samples", "--config", "vgg16", "--layers", GALLERY_LAYER]):
        print("python -m vggviz " + " ".join(args + common), flush=True)
        subprocess.run([sys.executable, "-m", "vggviz", *args, *common], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)


@contextlib.contextmanager
def _bare_app(gallery: bool = False):
    """The app with an empty torch hub cache, checkpoint folder and gallery folder (nothing of this machine's
    shows up in a picture), the gallery prepared first if ``gallery``; yields its URL."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = pathlib.Path(tmp)
        if gallery:
            prepare_gallery(folder / "gallery")
        env = {"VGGVIZ_CHECKPOINTS": str(folder / "checkpoints"), "VGGVIZ_GALLERY": str(folder / "gallery"),
               "VGGVIZ_DATA": str(folder / "data"), "VGGVIZ_JOBS": str(folder / "slots")}
        try:
            with app_server(folder, env=env) as url:
                yield url
        except AppDidNotStart as exc:
            raise SystemExit(str(exc)) from None


def ready(page, picture: Picture, expect) -> None:
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
    more = page.get_by_test_id("stSidebarNavViewButton")  # Streamlit folds a long navigation after a few runs
    if more.count() and nav.locator("a").count() < len(PAGES):
        more.click()
    expect(nav.locator("a")).to_have_count(len(PAGES))
    with i18n.use(picture.lang):
        for p in PAGES:
            expect(nav).to_contain_text(_(p.title))
        expect(page.get_by_test_id("stSidebar").locator(".st-key-lang")).to_contain_text(_("Language"))
        if picture.page not in ("pages/glossary.py", "pages/compare.py", "pages/lesson.py", "pages/train.py"):
            expect(page.get_by_test_id("stSidebar").locator(".st-key-config")).to_contain_text(_("Configuration"))
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")  # grids paint


def _arrange(page, picture: Picture, expect) -> None:
    """Open the picture's expander and bring it (or the picture's heading) to the top, once what it shows is
    drawn."""
    from vggviz import i18n
    from vggviz.i18n import _

    with i18n.use(picture.lang):
        if picture.expand:
            box = page.locator(f".st-key-{picture.expand}")
            box.locator("summary").click()
            if picture.caption:
                expect(box).to_contain_text(_(picture.caption, **dict(picture.caption_args)))
            ready(page, replace(picture, images=0), expect)
            for img in box.get_by_test_id("stImage").locator("img").all():
                expect(img).to_have_js_property("complete", True)
            box.evaluate("el => el.scrollIntoView({block: 'start'})")
        elif picture.scroll_to:
            page.get_by_role("heading", name=_(picture.scroll_to)).first.evaluate(
                "el => el.scrollIntoView({block: 'start'})")
        elif picture.train and picture.page == "pages/train.py":  # the run's panel: its result and its curves
            from ui.train import run_label
            from vggviz.train.recipe import Recipe

            label = run_label(Recipe(config="vgg11", init="xavier", train="head"), 1)
            page.get_by_role("heading", level=3).filter(has_text=label).first.evaluate(
                "el => el.scrollIntoView({block: 'start'})")
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def train_tiny(page, picture: Picture, expect) -> None:
    """On the Train page: upload a tiny zip of two classes of coloured squares (tests/tiny_training.py), choose
    configuration A (vgg11) at 64×64, untrained (Xavier) weights (ImageNet's cannot be downloaded here), the
    head only, batch 4, TRAIN_EPOCHS epochs, start, and wait for the checkpoint; the Train picture shows the
    run's curves, the Evaluate picture that checkpoint opened in Evaluate on the same zip."""
    sys.path.insert(0, str(ROOT / "tests"))
    import tiny_training

    from vggviz import i18n
    from vggviz.i18n import _

    run_ms = 600_000  # a training process starting and running on two busy cores
    with tempfile.TemporaryDirectory() as tmp, i18n.use(picture.lang):
        data = pathlib.Path(tmp) / TRAIN_ZIP
        data.write_bytes(tiny_training.zip_bytes(TRAIN_PER_CLASS))
        fill_train_form(page, expect, data, TRAIN_EPOCHS, cost_timeout_ms=run_ms)  # the cost: a probe measures it
        replace_box = page.locator(".st-key-train_overwrite")
        if replace_box.count():  # the other picture of this language wrote it already
            replace_box.locator("label").first.click()
            expect(replace_box.locator("input")).to_be_checked()
        page.locator(".st-key-train_start button").click()
        expect(page).to_have_url(re.compile(r"[?&]job=[\w-]+"))
        expect(page.get_by_test_id("stAlertContentSuccess").filter(has_text="vgg11-shapes.pth")).to_be_visible(
            timeout=run_ms)
        expect(page.locator(".js-plotly-plot")).to_have_count(3)  # curves, per class, confusion matrix
        if picture.page == "pages/train.py":
            return
        page.get_by_role("link", name=_("Open in Evaluate")).click()
        expect(page.get_by_role("heading", level=1).first).to_have_text(_("Evaluate a folder"))
        page.locator(".st-key-eval_zip input[type=file]").set_input_files(str(data))
        page.locator(".st-key-eval_run button").click()
        expect(page.locator(".st-key-eval_confusion .js-plotly-plot .main-svg").first).to_be_visible(timeout=run_ms)


def link(url: str, picture: Picture) -> str:
    """The picture's page at the app's ``url``, with its query and language."""
    query = "&".join(q for q in (picture.query, f"lang={picture.lang}") if q)
    slug = "" if picture.page == "pages/home.py" else picture.slug
    return f"{url}/{slug}?{query}"


def photograph(browser, url: str, picture: Picture, out: pathlib.Path, expect, devices: dict) -> pathlib.Path:
    """One picture, in a browser session of its own that speaks the picture's language, on the picture's phone
    (from Playwright's ``devices``) or a 1400×1000 desktop."""
    screen = {"viewport": {"width": 1400, "height": 1000}}
    if picture.phone:  # the phone, with a screen as long as two of its own: a phone's scrolling screenshot
        screen = phone_screen(devices, picture.phone)
        screen["viewport"] = {**screen["viewport"], "height": PHONE_SHOT_HEIGHT}
    context = browser.new_context(**screen, locale=LOCALES[picture.lang])
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        # a trained checkpoint's pictures start on the Train page, where the student makes it
        page.goto(link(url, replace(picture, page="pages/train.py", query="") if picture.train else picture))
        if picture.photo_page and not picture.train:  # untrained weights, chosen as a student would (the third choice)
            if picture.phone:  # the sidebar starts closed on a phone
                page.get_by_test_id("stExpandSidebarButton").click()
            weights = page.get_by_test_id("stSidebar").locator(".st-key-weights")
            weights.get_by_test_id("stRadioOption").nth(2).click()
            expect(weights.locator("input").nth(2)).to_be_checked()
            if picture.phone:
                page.get_by_test_id("stSidebarCollapseButton").click()
                expect(page.get_by_test_id("stExpandSidebarButton")).to_be_visible()
        if picture.train:
            train_tiny(page, picture, expect)
        ready(page, picture, expect)
        _arrange(page, picture, expect)
        path = out / f"{picture.name}.png"
        # a phone's picture at its CSS pixels (390 px wide), not its screen's three times as many
        page.screenshot(path=str(path), full_page=False, scale="css")
        return path
    finally:
        context.close()


def main(argv: list[str] | None = None) -> None:
    names = [p.name for p in PICTURES]
    parser = argparse.ArgumentParser(prog="python -m docs.pictures", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=names, metavar="NAME", help=f"some of: {', '.join(names)}")
    parser.add_argument("--phones", action="store_true", help="only the pictures of the pages on a phone")
    parser.add_argument("--out", type=pathlib.Path, default=DOCS, help="folder for the pictures (default docs/)")
    args = parser.parse_args(argv)
    if not os.path.exists(CHROMIUM):
        raise SystemExit(f"no Chromium at {CHROMIUM}: apt-get install chromium fonts-noto-cjk")
    from playwright.sync_api import expect, sync_playwright

    sys.path.insert(0, str(ROOT))  # ui and vggviz, as Streamlit imports them
    expect.set_options(timeout=TIMEOUT)
    args.out.mkdir(parents=True, exist_ok=True)
    chosen = [p for p in PICTURES if (not args.only or p.name in args.only) and (not args.phones or p.phone)]
    with _bare_app(gallery=any(p.gallery for p in chosen)) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for picture in chosen:
            start = time.monotonic()
            path = photograph(browser, url, picture, args.out, expect, pw.devices)
            print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}  "
                  f"({time.monotonic() - start:.0f} s)", flush=True)
        browser.close()


if __name__ == "__main__":
    main()
