"""The guided lesson: the slides one step at a time, each with its explanation, the live widget of the
page that shows it, and an exercise that checks itself.

The step is in the URL (``?step=N``) so that a teacher can send the class to it; ``?seed=N`` gives
everyone the same numbers. The student's seed, draws, feedback and score live in the session; the
feedback is kept as the engine's ``Text`` so it follows a language switch.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import streamlit as st

import ui
from ui import channel_link, lecture as widgets, present
from vggviz.architecture import charts, exercises, lesson
from vggviz.architecture.exercises import Exercise, Feedback, Field
from vggviz.architecture.layers import Layer
from vggviz.i18n import _

STEP = "lesson_step"  # the step selector's key: the session's current step


def _go(step: int) -> None:
    st.session_state[STEP] = step
    _step_to_url()


def _step_to_url() -> None:
    st.query_params["step"] = str(st.session_state[STEP] + 1)


def current_step() -> int:
    """The step to show: ``?step=`` when it names another step than the session's (a teacher's link),
    else the session's; written back to the URL."""
    ui._keep(STEP, 0)
    typed = st.query_params.get("step")
    if typed is not None and typed != str(st.session_state[STEP] + 1):
        try:
            st.session_state[STEP] = lesson.parse_step(typed)
        except lesson.LessonError as exc:
            st.warning(str(exc))
    _step_to_url()
    return st.session_state[STEP]


def student_seed() -> int:
    """This student's seed: the teacher's ``?seed=``, else drawn once for the session; kept in the URL."""
    if "lesson_seed" not in st.session_state:
        typed = st.query_params.get("seed")
        seed = None
        if typed is not None:
            try:
                seed = lesson.parse_seed(typed)
            except lesson.LessonError as exc:
                st.warning(str(exc))
        st.session_state.lesson_seed = random.SystemRandom().randrange(lesson.SEED_LIMIT) if seed is None else seed
    st.query_params["seed"] = str(st.session_state.lesson_seed)
    return st.session_state.lesson_seed


def navigation(step: int) -> None:
    """Step indicator, previous / next and a jump to any step."""
    total = len(lesson.STEPS)
    st.progress((step + 1) / total, text=_("Step {n} of {total}", n=step + 1, total=total))
    prev, pick, nxt = st.columns([1, 4, 1], vertical_alignment="bottom")
    prev.button(_("← Previous"), key="lesson_prev", disabled=step == 0, on_click=_go, args=(step - 1,),
                width="stretch")
    titles = [f"{i}. {_(s.title)}" for i, s in enumerate(lesson.STEPS, 1)]  # made now, in this run's language
    pick.selectbox(_("Step"), range(total), key=STEP, on_change=_step_to_url, format_func=titles.__getitem__)
    nxt.button(_("Next →"), key="lesson_next", disabled=step == total - 1, on_click=_go, args=(step + 1,),
               width="stretch", type="primary")


# --- the live widget of each step (the lecture's network: VGG-16 at 224×224) ---------------------------

WIDGETS: dict[str, Callable[[list[Layer], str], object]] = {
    "comparison": lambda rows, key: widgets.comparison(rows[0].in_shape[1:]),
    "table1": lambda rows, key: widgets.table1(key=key),
    "stack": lambda rows, key: widgets.stack_comparison(key=key),
    "unit_box": lambda rows, key: widgets.unit_box(rows, rows[0].in_shape[1:], key=key),
    "output_size": lambda rows, key: widgets.output_size(rows, widgets.layer_picker(rows, _("Layer"), key, "pool1")),
    "topdown": lambda rows, key: widgets.topdown(rows, lesson.CONFIG, key=key),
    "feature_maps": lambda rows, key: st.plotly_chart(present.chart(charts.feature_map_chart(rows)), key=key),
    "layer_table": lambda rows, key: widgets.layer_table(rows, key=key),
}


# A unit to open from a step (its page: what the channel looks for).
UNITS = {"vgg16": ("conv5_3", 42)}


def live_widget(step: lesson.Step) -> None:
    rows = ui.cached_layer_table(lesson.CONFIG, (lesson.INPUT, lesson.INPUT))
    WIDGETS[step.widget](rows, f"lesson_{step.key}")
    if step.key in UNITS:
        channel_link.page_link(lesson.CONFIG, *UNITS[step.key])


# --- the exercise ---------------------------------------------------------------------------------------

def _new_numbers(step: str) -> None:
    draws = st.session_state.setdefault("lesson_draws", {})
    draws[step] = draws.get(step, 0) + 1


def score() -> exercises.Score:
    if "lesson_score" not in st.session_state:
        st.session_state.lesson_score = exercises.Score()
    return st.session_state.lesson_score


def _answer(field: Field, key: str):
    label = str(field.label)
    if field.type == exercises.NUMBER:
        return st.text_input(label, key=key)
    if field.type == exercises.YESNO:
        words = {value: _(word) for value, word in exercises.YES_NO.items()}
        return st.radio(label, [True, False], index=None, horizontal=True, key=key, format_func=words.get)
    if field.type == exercises.CHOICE:
        return st.radio(label, field.options, index=None, horizontal=True, key=key)
    return st.multiselect(label, field.options, key=key)


def _feedback(exercise: Exercise, feedback: Feedback) -> None:
    notes = "\n".join(f"- {note}" for note in feedback.notes)
    if not feedback.complete:
        st.warning(notes)
        return
    if feedback.correct:
        st.success(_("Right!"))
    else:
        st.error(_("Not yet:") + "\n" + notes)
    with st.expander(_("Worked solution"), expanded=not feedback.correct):
        st.markdown("\n".join(f"{i}. {line}" for i, line in enumerate(exercise.solution, 1)))


def exercise_panel(index: int) -> None:
    """The step's exercise with this student's numbers: the answer form, the feedback, "new numbers"."""
    step = lesson.STEPS[index]
    draw = st.session_state.get("lesson_draws", {}).get(step.key, 0)
    exercise = step.exercise_for(lesson.exercise_seed(student_seed(), index, draw))
    st.subheader(_("Exercise: {kind}", kind=_(exercises.KINDS[exercise.kind])))
    # Keys carry the exercise's seed: new numbers come with empty answers, not the last ones.
    with st.form(key=f"lesson_form_{exercise.key}"):
        st.markdown(str(exercise.question))
        if exercise.details:
            st.markdown("\n".join(f"1. {line}" for line in exercise.details))
        numbers = [f for f in exercise.fields if f.type == exercises.NUMBER]
        columns = iter(st.columns(len(numbers))) if numbers else iter(())
        answers = {}
        for field in exercise.fields:
            with next(columns) if field.type == exercises.NUMBER else st.container():
                answers[field.name] = _answer(field, f"lesson_{exercise.key}_{field.name}")
        checked = st.form_submit_button(_("Check"), key=f"lesson_check_{exercise.key}", type="primary")
    feedback = st.session_state.setdefault("lesson_feedback", {})
    if checked:
        feedback[exercise.key] = exercises.check(exercise, answers)
        score().record(exercise, feedback[exercise.key])
    if exercise.key in feedback:
        _feedback(exercise, feedback[exercise.key])
    st.button(_("New numbers"), key=f"lesson_new_{step.key}", on_click=_new_numbers, args=(step.key,),
              icon=":material/casino:")


def _reset_score() -> None:
    st.session_state.lesson_score = exercises.Score()


def score_panel() -> None:
    st.subheader(_("Your score"))
    tally = score().by_kind()
    columns = st.columns(len(tally) + 1, vertical_alignment="bottom")
    for column, (kind, (right, tried)) in zip(columns, tally.items()):
        column.metric(_(exercises.KINDS[kind]), f"{right} / {tried}")
    columns[-1].button(_("Reset score"), key="lesson_reset", on_click=_reset_score)
    st.caption(_("Per kind of exercise: right at the first check / exercises checked, in this session."))


def show() -> None:
    """The whole lesson page below its title."""
    index = current_step()
    navigation(index)
    step = lesson.STEPS[index]
    st.header(f"{index + 1}. {_(step.title)}")
    st.markdown(str(step.explanation))
    if step.formula:
        st.latex(step.formula)
    live_widget(step)
    st.divider()
    exercise_panel(index)
    st.divider()
    score_panel()
