"""The lesson in a real browser (Playwright, Debian's Chromium, `streamlit run app.py`; the server and
browser fixtures of test_browser.py): a teacher's link opens a step in a language, a planted mistake is
named, the right answer is accepted; one exercise in Chinese, one in English."""

from __future__ import annotations

import pytest

from test_browser import Student, browser, expect, server, sub_page_probes  # noqa: F401 (fixtures, and its failure in CI without Chromium)
from vggviz import i18n
from vggviz.architecture import exercises, lesson
from vggviz.i18n import _

pytestmark = pytest.mark.slow
SEED = 11


def answer(form, ex: exercises.Exercise, answers: dict) -> None:
    for field in ex.fields:
        value = answers[field.name]
        if field.type == exercises.NUMBER:
            form.get_by_label(str(field.label), exact=True).fill(str(value))
        else:  # the yes/no question of the output-size exercise
            form.get_by_text(_(exercises.YES_NO[value]), exact=True).click()
    form.get_by_role("button", name=_("Check")).click()


@pytest.mark.parametrize("lang, step", [("zh", 5), ("en", 7)])
def test_one_exercise_in_each_language(server, browser, lang, step):  # noqa: F811 (fixtures)
    w = Student(browser, f"{server}/lesson?step={step}&lang={lang}&seed={SEED}",
                expected_errors=sub_page_probes(server, "lesson"))
    page = w.page
    ex = lesson.STEPS[step - 1].exercise_for(lesson.exercise_seed(SEED, step - 1, 0))
    trap = next(t for t in ex.traps if t.values)
    wrong = dict(ex.answer, **{trap.field: trap.values[0] if isinstance(trap.values[0], bool)
                               else f"{trap.values[0]:g}"})
    with i18n.use(lang):
        expect(page.get_by_role("heading", level=2)).to_have_text(f"{step}. {_(lesson.STEPS[step - 1].title)}")
        form = page.locator('[data-testid="stForm"]')
        expect(form).to_contain_text(str(ex.question)[:20])
        answer(form, ex, wrong)
        error = page.locator('[data-testid="stAlertContentError"]')
        expect(error).to_contain_text(_("Not yet:"))
        expect(error).to_contain_text(str(trap.why)[:12])
        expect(page.locator('[data-testid="stExpander"]').last).to_contain_text(_("Worked solution"))
        answer(form, ex, {k: f"{v}" if not isinstance(v, bool) else v for k, v in ex.answer.items()})
        expect(page.locator('[data-testid="stAlertContentSuccess"]').get_by_text(_("Right!"))).to_be_visible()
        expect(page.locator('[data-testid="stMetric"]').filter(has_text=_(exercises.KINDS[ex.kind]))
               ).to_contain_text("0 / 1")
    w.shot(f"lesson_step{step}_{lang}")
    w.check()
    w.close()
