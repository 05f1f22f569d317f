"""The lesson's exercises against independent references: output shapes and parameter counts from real
torch modules (run on the meta device: shapes without arithmetic), receptive fields by the Distill
recurrence written here, Table 1's facts from the paper. Each named mistake is planted (the wrong
answer computed here, as a student would) and must be recognised; a right answer never is one."""

from __future__ import annotations

import functools
import math

import pytest

from vggviz import i18n
from vggviz.architecture import exercises, lesson
from vggviz.architecture.exercises import check, make

SEEDS = range(500)
# The paper's Table 1 (REFERENCE.md §1): weight layers, which use 1x1 convs, which has LRN.
WEIGHT_LAYERS = {"A": 11, "A-LRN": 11, "B": 13, "C": 16, "D": 16, "E": 19}
ONE_BY_ONE = {"C"}
LRN = "A-LRN"


def typed(answers: dict) -> dict:
    """Answers as the page hands them over: numbers as typed text, the rest as chosen."""
    return {k: (f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else v) for k, v in answers.items()}


def diagnosed(ex, field: str, wrong, expected_code: str) -> None:
    """Plant ``wrong`` in ``field`` (all other fields right): it must be called ``expected_code``."""
    if wrong == ex.answer[field]:
        return  # this slip gives the right number here: nothing to name
    answers = typed(dict(ex.answer))
    answers[field] = wrong if isinstance(wrong, str) else typed({field: wrong})[field]
    fb = check(ex, answers)
    assert fb.complete and not fb.correct and not fb.right[field], (ex.given, field, wrong)
    assert expected_code in fb.mistakes, (ex.given, field, wrong, fb.mistakes)
    assert fb.notes and all(str(n) for n in fb.notes)


def right_is_right(ex) -> None:
    fb = check(ex, typed(dict(ex.answer)))
    assert fb.complete and fb.correct and fb.mistakes == () and fb.notes == (), (ex.given, fb.notes)


def codes(kind: str, **options) -> set[str]:
    return {t.code for seed in SEEDS for t in make(kind, seed, **options).traps}


# --- 1. output size -------------------------------------------------------------------------------------

def _module(torch, layer: str, f: int, s: int, p: int):
    if layer == "conv":
        return torch.nn.Conv2d(1, 1, f, s, p, device="meta")
    return torch.nn.MaxPool2d(f, s, p)


def _out(torch, layer, size, f, s, p) -> int:
    return _module(torch, layer, f, s, p)(torch.zeros(1, 1, size, size, device="meta")).shape[-1]


@pytest.mark.parametrize("vgg", [False, True])
def test_output_size_equals_torch_and_names_the_mistakes(torch, vgg):
    inexact = 0
    for seed in SEEDS:
        ex = make("output_size", seed, vgg=vgg)
        g = ex.given
        size, f, s, p = g["size"], g["f"], g["s"], g["p"]
        out = _out(torch, g["layer"], size, f, s, p)
        assert ex.answer["out"] == out, g
        covered = (out - 1) * s + f  # the last window's far edge
        assert ex.answer["tiles"] == (covered == size + 2 * p), g
        inexact += covered != size + 2 * p
        right_is_right(ex)
        if g["layer"] == "conv":
            diagnosed(ex, "out", _out(torch, "conv", size, f, s, 0), "no_padding")
        exact = (size - f + 2 * p) / s + 1
        if not exact.is_integer():
            diagnosed(ex, "out", f"{exact:.2f}", "no_floor")
            diagnosed(ex, "out", math.ceil(exact), "no_floor")
        diagnosed(ex, "out", out - 1, "no_plus_one")
        diagnosed(ex, "tiles", not ex.answer["tiles"], "tiling")
    if not vgg:
        assert inexact > len(SEEDS) // 4  # many divisions are not exact
        assert codes("output_size") == {"no_padding", "padding_once", "no_floor", "no_plus_one", "tiling"}


# --- 2. receptive field ---------------------------------------------------------------------------------

def distill_rf(chain) -> int:
    """Araujo et al. (Distill 2019): r0 = sum_l (k_l - 1) * prod_{i<l} s_i + 1, bottom-up."""
    r, jump = 1, 1
    for _, k, s in chain:
        r += (k - 1) * jump
        jump *= s
    return r


def test_receptive_field_equals_the_distill_recurrence_and_names_the_mistakes():
    lengths = set()
    for seed in SEEDS:
        ex = make("receptive_field", seed)
        chain = ex.given["chain"]
        lengths.add(len(chain))
        assert all((name.startswith("Conv") and k in (1, 3, 5, 7) and s in (1, 2))
                   or (name.startswith("Pool") and (k, s) in ((2, 2), (3, 2))) for name, k, s in chain)
        assert ex.answer["rf"] == distill_rf(chain), chain
        right_is_right(ex)
        f = 1  # top-down without the "- 1"
        for _, k, s in reversed(chain):
            f = f * s + k
        diagnosed(ex, "rf", f, "no_minus_one")
        strides = [s for _, _, s in chain]
        diagnosed(ex, "rf", distill_rf([(n, k, s) for (n, k, _), s in zip(chain, strides[1:] + [1])]),
                  "wrong_stride")  # each layer with the stride of the one above
        diagnosed(ex, "rf", sum(k for _, k, _ in chain), "added_kernels")
        diagnosed(ex, "rf", distill_rf([(n, k, 1) for n, k, _ in chain]), "ignored_strides")
    assert lengths == {2, 3, 4, 5}
    assert codes("receptive_field") == {"no_minus_one", "wrong_stride", "added_kernels", "ignored_strides"}


def test_the_receptive_field_step_keeps_to_two_layers():
    assert {len(make("receptive_field", seed, layers=(2, 2)).given["chain"]) for seed in range(50)} == {2}


# --- 3. parameters ----------------------------------------------------------------------------------------

def _numel(module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_parameters_equal_torch_modules_and_name_the_mistakes(torch):
    nn = torch.nn
    biases = set()
    for seed in SEEDS:
        ex = make("parameters", seed)
        n, c, bias = ex.given["n"], ex.given["channels"], ex.given["bias"]
        biases.add(bias)

        def stack(bias=bias, c_in=c):
            return nn.Sequential(*(nn.Conv2d(c_in, c, 3, padding=1, bias=bias, device="meta") for _ in range(n)))

        def single(bias=bias):
            return nn.Conv2d(c, c, 2 * n + 1, padding=n, bias=bias, device="meta")

        assert ex.answer == {"stacked": _numel(stack()), "single": _numel(single())}, ex.given
        right_is_right(ex)
        flip = "forgot_biases" if bias else "counted_biases"
        diagnosed(ex, "stacked", _numel(stack(bias=not bias)), flip)
        diagnosed(ex, "single", _numel(single(bias=not bias)), flip)
        weights_c = single().weight.numel() // c  # k x k x C: one factor C too few
        diagnosed(ex, "single", weights_c + (c if bias else 0), "c_not_squared")
        diagnosed(ex, "stacked", n * (9 * c + (c if bias else 0)), "c_not_squared")
        diagnosed(ex, "stacked", _numel(stack()[0]), "one_conv")
    assert biases == {True, False}
    assert all(not make("parameters", seed, biases=False).given["bias"] for seed in range(50))


# --- 4. VGG shapes ----------------------------------------------------------------------------------------

@functools.cache
def _reference(torch, config: str, padding: bool = True, ceil: bool = False):
    """The configuration from torchvision's VGG (A, B, D, E), C as D with blocks 3-5 ending in 1x1 convs,
    A-LRN as A with an LRN after the first conv (REFERENCE.md §1), on the meta device; named by walking it."""
    from torchvision import models

    nn = torch.nn
    build = {"A": models.vgg11, "A-LRN": models.vgg11, "B": models.vgg13, "C": models.vgg16, "D": models.vgg16,
             "E": models.vgg19}[config]
    with torch.device("meta"):
        layers = list(build().features)
        if config == "C":
            pools = [i for i, m in enumerate(layers) if isinstance(m, nn.MaxPool2d)]
            for pool in pools[2:]:
                last = pool - 2  # conv, relu, pool
                old = layers[last]
                layers[last] = nn.Conv2d(old.in_channels, old.out_channels, 1)
        if config == "A-LRN":
            layers.insert(2, nn.LocalResponseNorm(5))
        for i, m in enumerate(layers):
            if isinstance(m, nn.Conv2d) and not padding:
                layers[i] = nn.Conv2d(m.in_channels, m.out_channels, m.kernel_size, padding=0)
            if isinstance(m, nn.MaxPool2d) and ceil:
                layers[i] = nn.MaxPool2d(2, 2, ceil_mode=True)
    names, block, n = [], 1, 0
    for m in layers:
        if isinstance(m, nn.Conv2d):
            n += 1
            names.append(f"conv{block}_{n}")
        elif isinstance(m, nn.MaxPool2d):
            names.append(f"pool{block}")
            block, n = block + 1, 0
        else:
            names.append(None)
    return nn.Sequential(*layers), names


def _forward(torch, config, h, w, layer, **variant):
    features, names = _reference(torch, config, **variant)
    upto = names.index(layer) + 1
    shape = tuple(features[:upto](torch.zeros(1, 3, h, w, device="meta")).shape[1:])
    return shape, features[upto - 1]


def names_upto(torch, config, layer):
    names = _reference(torch, config)[1]
    return names[:names.index(layer) + 1]


def test_vgg_shapes_equal_torch_and_name_the_mistakes(torch):
    seen = set()
    for seed in range(200):
        ex = make("vgg_shapes", seed)
        config, (h, w), layer = ex.given["config"], ex.given["input"], ex.given["layer"]
        seen.add(config)
        shape, module = _forward(torch, config, h, w, layer)
        assert (ex.answer["channels"], ex.answer["height"], ex.answer["width"]) == shape, ex.given
        assert ex.answer["params"] == _numel(module), ex.given
        right_is_right(ex)
        if isinstance(module, torch.nn.Conv2d):
            diagnosed(ex, "params", module.weight.numel(), "no_bias")
            diagnosed(ex, "channels", module.in_channels, "in_channels")
            if module.kernel_size == (1, 1):
                diagnosed(ex, "params", _numel(torch.nn.Conv2d(module.in_channels, module.out_channels, 3,
                                                               device="meta")), "kernel")
        else:
            diagnosed(ex, "params", ex.answer["channels"], "pool_params")
        ceil_shape, _ = _forward(torch, config, h, w, layer, ceil=True)
        diagnosed(ex, "height", ceil_shape[1], "no_floor")
        diagnosed(ex, "width", ceil_shape[2], "no_floor")
        try:
            unpadded, _ = _forward(torch, config, h, w, layer, padding=False)
        except RuntimeError:  # the map shrank away: no such wrong answer to plant
            unpadded = None
        if unpadded:
            diagnosed(ex, "height", unpadded[1], "no_padding")
        pools = [n for n in names_upto(torch, config, layer) if n and n.startswith("pool")]
        if pools:  # one max pooling too few
            fewer = (3, h, w) if len(pools) == 1 else _forward(torch, config, h, w, pools[-2])[0]
            diagnosed(ex, "height", fewer[1], "pool_count")
    assert seen == set(WEIGHT_LAYERS)
    assert {make("vgg_shapes", seed, config="D").given["config"] for seed in range(30)} == {"D"}


# --- 5. configurations ----------------------------------------------------------------------------------

def test_configuration_questions_match_the_paper_and_name_the_mistakes():
    asked = set()
    for seed in SEEDS:
        ex = make("configurations", seed)
        ask = ex.given["ask"]
        asked.add(ask)
        right_is_right(ex)
        if ask == "one_by_one":
            assert set(ex.answer["configs"]) == ONE_BY_ONE
            diagnosed(ex, "configs", ["D"], "missed")
            diagnosed(ex, "configs", ["C", "E"], "extra")
        elif ask == "lrn":
            assert ex.answer["config"] == LRN
            diagnosed(ex, "config", "A", "not_lrn")
        elif ask == "weight_layers":
            total = WEIGHT_LAYERS[ex.question.params["config"]]
            assert ex.answer["layers"] == total
            diagnosed(ex, "layers", total - 3, "conv_only")  # FC-4096, FC-4096, FC-1000
            diagnosed(ex, "layers", total + 5, "counted_pools")  # five maxpools
            diagnosed(ex, "layers", total + 1, "counted_softmax")
        else:
            n = ex.question.params["n"]
            assert set(ex.answer["configs"]) == {c for c, d in WEIGHT_LAYERS.items() if d == n}
    assert asked == {"one_by_one", "lrn", "weight_layers", "depth"}


# --- one wrong number, several slips -------------------------------------------------------------------

def output_size_slips(torch, layer, size, f, s, p) -> dict[str, list[float]]:
    """What each slip gives, computed here as a student slips: torch without the padding, the formula with
    the padding once, without the floor (exact or rounded up), without the "+ 1"."""
    num = size - f + 2 * p
    return {"no_padding": [_out(torch, layer, size, f, s, 0)], "padding_once": [(size - f + p) // s + 1],
            "no_floor": [num / s + 1, math.ceil(num / s) + 1], "no_plus_one": [num // s, num / s]}


def receptive_field_slips(chain) -> dict[str, list[float]]:
    """What each slip gives, by the Distill recurrence with the slip planted (or top-down without the "- 1")."""
    f = 1
    for _, k, s in reversed(chain):
        f = f * s + k
    strides = [s for _, _, s in chain]

    def with_strides(new):
        return distill_rf([(n, k, s) for (n, k, _), s in zip(chain, new)])
    return {"no_minus_one": [f], "wrong_stride": [with_strides(strides[1:] + [1]), with_strides([1] + strides[:-1])],
            "added_kernels": [sum(k for _, k, _ in chain)], "ignored_strides": [with_strides([1] * len(chain))]}


def giving(slips: dict[str, list[float]], value: float) -> set[str]:
    return {code for code, values in slips.items() if any(abs(v - value) < 0.005 for v in values)}


def one_diagnosis(ex, field: str, value: float, codes: set[str]) -> None:
    """Typing ``value`` gets one note naming exactly ``codes``, joined with "or" in both languages."""
    answers = typed(dict(ex.answer))
    answers[field] = f"{value:.2f}" if value % 1 else str(int(value))
    fb = check(ex, answers)
    assert set(fb.mistakes) == codes and len(fb.mistakes) == len(codes), (ex.given, value, fb.mistakes, codes)
    assert len(fb.notes) == 1, (ex.given, value, [str(n) for n in fb.notes])
    if len(codes) > 1:
        slips = [t.slip for t in ex.traps if t.code in codes]
        for lang, joiner in (("en", ", or if you "), ("zh", "或")):
            with i18n.use(lang):
                note, clauses = str(fb.notes[0]), [str(c) for c in slips]
            assert note.count(joiner) == len(codes) - 1 and all(c in note for c in clauses), note
            assert not any(str(t.why) in note for t in ex.traps), note  # never a verdict of its own


def test_a_number_that_several_slips_give_is_diagnosed_once(torch):
    # Issue 21's example: 165, F 11, P 1, S 2; 79 is right, and 78 is three slips at once.
    ex = exercises.output_size_of("conv", 165, 11, 1, 2)
    assert ex.answer["out"] == _out(torch, "conv", 165, 11, 2, 1) == 79
    slips = output_size_slips(torch, "conv", 165, 11, 2, 1)
    assert giving(slips, 78) == {"no_padding", "padding_once", "no_plus_one"}
    one_diagnosis(ex, "out", 78, giving(slips, 78))
    fb = check(ex, {"out": "78", "tiles": True})
    assert str(fb.notes[0]) == (
        "Output size out (height = width): 78 is what you get if you leave out the padding (with P = 1 the padded "
        "input is 167 wide, not 165), or if you add the padding on one side only (it goes on both: 2P = 2), or if "
        "you forget the “+ 1” (the first window adds one).")
    with i18n.use("zh"):
        assert str(fb.notes[0]) == (
            "输出尺寸 out（高 = 宽）：如果你漏掉了填充（P = 1 时，填充后的输入宽为 167，而不是 165），"
            "或者只在一侧加了填充（两侧都要填充：2P = 2），或者忘了“+ 1”（第一个窗口还要再加一），都会得到 78。")
    # A receptive field: a stride-2 conv under a stride-1 conv; the neighbour's stride and no strides give 5.
    chain = [("Conv1", 3, 2), ("Conv2", 3, 1)]
    ex = exercises.receptive_field_of(chain)
    assert ex.answer["rf"] == distill_rf(chain) == 7
    slips = receptive_field_slips(chain)
    assert giving(slips, 5) == {"wrong_stride", "ignored_strides"}
    one_diagnosis(ex, "rf", 5, giving(slips, 5))
    with i18n.use("zh"):
        assert "或者漏掉了步距" in str(check(ex, {"rf": "5"}).notes[0])


def test_every_slip_of_output_size_and_receptive_field_gets_one_note(torch):
    """Over the drawn exercises: every wrong number a slip gives gets one note naming every slip that gives it."""
    shared = 0
    for seed in SEEDS:
        ex = make("output_size", seed)
        g = ex.given
        slips = output_size_slips(torch, g["layer"], g["size"], g["f"], g["s"], g["p"])
        for ex_, field, slips_ in ((ex, "out", slips),
                                   (make("receptive_field", seed), "rf",
                                    receptive_field_slips(make("receptive_field", seed).given["chain"]))):
            wrong = {round(v, 2) for values in slips_.values() for v in values if abs(v - ex_.answer[field]) >= 0.005}
            for value in wrong:
                codes = giving(slips_, value)
                shared += len(codes) > 1
                one_diagnosis(ex_, field, value, codes)
    assert shared > 200  # common: 360 of the 3,333 wrong numbers here (issue 21: about 16 % of these slips)


# --- checking, text, score ------------------------------------------------------------------------------

def test_unreadable_or_missing_answers_are_named_not_scored():
    ex = make("parameters", 3)
    fb = check(ex, {"stacked": "lots", "single": ""})
    assert not fb.complete and not fb.correct and len(fb.notes) == 2
    assert "not a number" in str(fb.notes[0]) and "no answer yet" in str(fb.notes[1])
    hostile = check(ex, {"stacked": "[x](javascript:alert(1))", "single": "1"})
    assert "\\[x\\]\\(javascript" in str(hostile.notes[0])
    assert exercises.parse_number("１,１８０,１６０") == 1_180_160 and exercises.parse_number("112.5") == 112.5
    assert exercises.parse_number("nan") is None and exercises.parse_number("1e999") is None


def test_every_sentence_exists_in_both_languages():
    for kind in exercises.KINDS:
        for seed in range(40):
            ex = make(kind, seed)
            wrong = check(ex, {f.name: ("1" if f.type == "number" else None) for f in ex.fields})
            slips = [t.slip for t in ex.traps if t.values is not None]  # for a number that several slips give
            assert all(slips), [t.code for t in ex.traps if t.values is not None and t.slip is None]
            lines = [ex.question, *ex.details, *(f.label for f in ex.fields), *ex.solution, *wrong.notes, *slips]
            with i18n.use("zh"):
                zh = [str(x) for x in lines]
            en = [str(x) for x in lines]
            assert all(zh) and all(en)
            untranslated = [e for z, e, x in zip(zh, en, lines) if not isinstance(x, str) and z == e]
            assert not untranslated, untranslated


def test_score_counts_each_exercise_once_per_kind():
    score = exercises.Score()
    a, b = make("output_size", 1), make("parameters", 2)
    score.record(a, check(a, {"out": "", "tiles": True}))  # incomplete: not counted
    score.record(a, check(a, typed({"out": a.answer["out"] + 1, "tiles": a.answer["tiles"]})))
    score.record(a, check(a, typed(dict(a.answer))))  # right after the solution: still wrong the first time
    score.record(b, check(b, typed(dict(b.answer))))
    tally = score.by_kind()
    assert tally["output_size"] == (0, 1) and tally["parameters"] == (1, 1) and tally["vgg_shapes"] == (0, 0)


# --- the lesson ------------------------------------------------------------------------------------------

def test_the_lesson_follows_the_slides():
    assert [s.key for s in lesson.STEPS] == [
        "ilsvrc", "table1", "highlight", "receptive_field", "output_size", "rf_formula", "parameters",
        "vgg_rules", "vgg16"]
    assert {s.exercise for s in lesson.STEPS} == set(exercises.KINDS)
    for i, step in enumerate(lesson.STEPS):
        assert step.exercise_for(lesson.exercise_seed(7, i, 0)).kind == step.exercise
    with i18n.use("zh"):
        assert "牛津大学" in str(lesson.STEPS[0].explanation) and "感受野" in str(lesson.STEPS[3].explanation)
    assert "212 × 212" in str(lesson.STEPS[-1].explanation)  # REFERENCE.md §3: pool5 of VGG-16


def test_steps_in_the_url_and_seeds():
    assert lesson.parse_step("1") == 0 and lesson.parse_step(" 9 ") == 8
    for bad in ("0", "10", "-1", "two", "", "٣", "[x](y)"):
        with pytest.raises(lesson.LessonError):
            lesson.parse_step(bad)
    assert lesson.parse_seed("12345") == 12345
    for bad in ("-3", "x", "99999999999", "１"):
        with pytest.raises(lesson.LessonError):
            lesson.parse_seed(bad)
    assert lesson.exercise_seed(5, 2, 0) == lesson.exercise_seed(5, 2, 0)
    assert len({lesson.exercise_seed(5, step, draw) for step in range(9) for draw in range(20)}) == 180
