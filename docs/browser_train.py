"""The Train page's form filled in a real browser, the same way for the pictures (docs/pictures.py) and the
browser test (tests/test_browser_train.py): a zip of photos uploaded, configuration A (vgg11) at 64×64,
untrained (Xavier) weights (ImageNet's cannot be downloaded here), the head only, batch 4, no augmentation,
``epochs`` epochs; it returns once the page shows the run's cost. Labels in the language the caller set
(``vggviz.i18n.use``); waits are Playwright's ``expect``, never sleeps."""

from __future__ import annotations

import pathlib
import re


def fill_train_form(page, expect, data: pathlib.Path, epochs: int, *, first_class: str = "blue",
                    cost_timeout_ms: float | None = None) -> None:
    """Fill the form for ``data`` (a zip whose first class, in ImageFolder's order, is ``first_class``) and
    wait for the cost, which a probe in a worker process measures first (``cost_timeout_ms``: how long that
    may take; None: ``expect``'s own timeout)."""
    from vggviz.i18n import _, ngettext

    page.locator(".st-key-train_zip input[type=file]").set_input_files(str(data))
    expect(page.get_by_test_id("stDataFrame").get_by_test_id("glide-cell-0-0")).to_have_text(first_class)
    page.locator(".st-key-train_init").get_by_test_id("stRadioOption").nth(1).click()  # untrained (Xavier)
    page.locator(".st-key-train_config").get_by_test_id("stSelectbox").click()
    page.get_by_role("option").nth(0).click()  # A, vgg11
    expect(page.locator(".st-key-train_config").get_by_role("combobox")).to_have_value(re.compile(r"^A\b"))
    page.get_by_test_id("stExpander").filter(has_text=_("Hyper-parameters")).locator("summary").click()
    for key, value in (("train_size", "64"), ("train_batch", "4")):  # both the slider's first stop
        slider = page.locator(f".st-key-{key}").get_by_role("slider")
        slider.focus()
        slider.press("Home")  # one key: arrow presses can meet a rerun and be lost
        expect(slider).to_have_attribute("aria-valuetext", value)
        expect(page.get_by_test_id("stStatusWidget")).to_have_count(0)  # its rerun done before the next
    augment = page.locator(".st-key-train_augment_fine-tune")
    augment.locator("label").first.click()  # off: one view a photo, the course's val transform
    expect(augment.locator("input")).not_to_be_checked()
    field = page.locator(".st-key-train_epochs input")
    field.fill(str(epochs))
    field.press("Enter")
    cost = page.get_by_test_id("stAlertContentInfo").filter(has_text=ngettext("{n} epoch", "{n} epochs", epochs))
    if cost_timeout_ms is None:
        expect(cost).to_be_visible()
    else:
        expect(cost).to_be_visible(timeout=cost_timeout_ms)
