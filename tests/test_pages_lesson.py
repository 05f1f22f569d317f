"""The lesson under AppTest, through app.py as a student gets it: the whole lesson in Chinese and in
English, every step rendered, a wrong answer diagnosed with its named mistake and the worked solution,
a right answer accepted, the score per kind; the step and the seed in the URL."""

from __future__ import annotations

import pathlib

import pytest
from streamlit.testing.v1 import AppTest

from helpers import plain
from vggviz import i18n
from vggviz.architecture import exercises, lesson
from vggviz.i18n import _

ROOT = pathlib.Path(__file__).resolve().parents[1]
SEED = 7


@pytest.fixture(autouse=True)
def through_app_py(monkeypatch):
    """Sub-pages through app.py's st.navigation, as the server runs them. AppTest decides afresh on every
    run that an app with a pages/ folder is a legacy multipage app and then runs a switched-to page on
    its own (no sidebar, no language); the server decides once, and app.py's st.navigation turns it off."""
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.testing.v1 import app_test

    class AppNavigation(PagesManager):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            PagesManager.uses_pages_directory = False

    monkeypatch.setattr(app_test, "PagesManager", AppNavigation)


@pytest.fixture(autouse=True)
def speaks_english_afterwards():
    yield
    i18n.set_language(i18n.DEFAULT)


def open_lesson(lang: str, **query: str) -> AppTest:
    # AppTest reads a widget's state in this thread through its format_func, which translates: speak the
    # session's language here too.
    i18n.set_language(lang)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params.update({"lang": lang, "seed": str(SEED), **query})
    at.run()
    at.switch_page("pages/lesson.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def the_exercise(step: int, draw: int = 0) -> exercises.Exercise:
    return lesson.STEPS[step].exercise_for(lesson.exercise_seed(SEED, step, draw))


def wrong_answer(ex: exercises.Exercise) -> tuple[dict, exercises.Trap | None]:
    """Right answers everywhere but one field, where a named mistake is planted."""
    answers = dict(ex.answer)
    trap = next((t for t in ex.traps if t.values), None)
    if trap is not None:
        value = trap.values[0]
        answers[trap.field] = value if isinstance(value, bool) else f"{value:g}"
        return answers, trap
    field = ex.fields[0]  # the configuration questions: pick a wrong option
    wrong = next(o for o in field.options if o not in ex.answer[field.name])
    answers[field.name] = [wrong] if field.type == exercises.CHOICES else wrong
    return answers, None


def fill(at: AppTest, ex: exercises.Exercise, answers: dict) -> AppTest:
    for field in ex.fields:
        key, value = f"lesson_{ex.key}_{field.name}", answers[field.name]
        if field.type == exercises.NUMBER:
            at.text_input(key=key).input(str(value))
        elif field.type == exercises.CHOICES:
            at.multiselect(key=key).set_value(list(value))
        else:
            at.radio(key=key).set_value(value)
    at.button(key=f"lesson_check_{ex.key}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def text_of(elements) -> str:
    return plain(" ".join(e.value for e in elements))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_whole_lesson_in_both_languages(lang):
    at = open_lesson(lang)
    tried = {kind: 0 for kind in exercises.KINDS}
    for step in range(len(lesson.STEPS)):
        ex = the_exercise(step)
        with i18n.use(lang):
            title, right = _(lesson.STEPS[step].title), _("Right!")
            question = str(ex.question)
        assert at.header[0].value == f"{step + 1}. {title}"
        assert at.query_params["step"] == str(step + 1)
        assert not at.error and not at.warning
        assert plain(question) in text_of(at.markdown)
        assert len(at.latex) <= 1, f"step {step + 1} writes a formula twice: {[e.value for e in at.latex]}"

        answers, trap = wrong_answer(ex)
        fill(at, ex, answers)
        with i18n.use(lang):
            why = plain(str(trap.why)) if trap else None
            solution = [plain(str(line)) for line in ex.solution]
        assert at.error, f"step {step + 1}: a wrong answer was not called wrong"
        if why:
            assert why in text_of(at.error), (step + 1, trap.code)
        shown = text_of(at.expander[0].markdown)
        assert all(line in shown for line in solution), step + 1
        tried[ex.kind] += 1

        fill(at, ex, dict(ex.answer))
        assert right in [s.value for s in at.success] and not at.error
        if step < len(lesson.STEPS) - 1:
            at.button(key="lesson_next").click().run()
    assert at.header[0].value.startswith(f"{len(lesson.STEPS)}. ") and at.button(key="lesson_next").disabled
    with i18n.use(lang):
        labels = {_(exercises.KINDS[k]): f"0 / {n}" for k, n in tried.items()}  # wrong at the first check
    assert {m.label: m.value for m in at.metric if m.label in labels} == labels
    at.button(key="lesson_reset").click().run()
    assert all(m.value == "0 / 0" for m in at.metric if m.label in labels)


def test_a_teachers_link_opens_the_step_and_bad_links_say_why():
    at = open_lesson("en", step="6")
    assert at.header[0].value.startswith("6. ") and at.selectbox(key="lesson_step").value == 5
    at.button(key="lesson_prev").click().run()
    assert at.header[0].value.startswith("5. ") and at.query_params["step"] == "5"
    at.selectbox(key="lesson_step").set_value(8).run()
    assert at.header[0].value.startswith("9. ") and at.query_params["step"] == "9"

    bad = open_lesson("zh", step="99", seed="x")
    assert not bad.exception and bad.header[0].value.startswith("1. ")
    warnings = text_of(bad.warning)
    assert "逐步讲解中没有第“99”步" in warnings and "不是有效的种子" in warnings
    assert bad.query_params["step"] == "1"


def test_new_numbers_start_from_empty_answers():
    at = open_lesson("en", step="5")
    first = the_exercise(4)
    fill(at, first, dict(first.answer))
    assert at.success
    at.button(key="lesson_new_output_size").click().run()
    second = the_exercise(4, draw=1)
    assert second.key != first.key and not at.success and not at.error
    assert at.text_input(key=f"lesson_{second.key}_out").value == ""
    assert plain(str(second.question)) in text_of(at.markdown)
