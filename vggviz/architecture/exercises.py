"""Self-checking exercises on the lecture's arithmetic, with numbers drawn per student.

Each kind draws its numbers from a ``random.Random(seed)``, so one seed gives one exercise (a teacher
can hand the whole class the same seed). The right answers come from the engine (``layers``,
``lecture``, ``configs``); the named mistakes ("traps") are the answers a known slip leads to with
the same numbers, so feedback can say what went wrong, not just "wrong"; a number that several slips
give is one diagnosis naming them all. Every sentence is a ``Text`` (a template and its numbers), made
in the reader's language where it is shown. Torch-free.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import configs, lecture
from .layers import Layer, conv_output_size, layer_specs, layer_table
from .tables import shape_text
from .. import text
from ..i18n import Items, N_, Text, _

KINDS: dict[str, str] = {
    "output_size": N_("Output size"),
    "receptive_field": N_("Receptive field"),
    "parameters": N_("Parameters"),
    "vgg_shapes": N_("VGG shapes"),
    "configurations": N_("Configurations"),
}
NUMBER, YESNO, CHOICE, CHOICES = "number", "yesno", "choice", "choices"
_MAX_TYPED = 40  # characters of a typed answer worth reading


@dataclass(frozen=True)
class Field:
    """One answer the student gives: a number, yes/no, one of ``options`` or several of them."""

    name: str
    label: Text
    type: str = NUMBER
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class Trap:
    """A named mistake: the answers it leads to for ``field`` with this exercise's numbers (None: any
    wrong answer), why it is wrong, and the slip as a clause after "if you" (for a number that several
    slips give: one sentence naming them all)."""

    code: str
    field: str
    values: tuple[float, ...] | None
    why: Text
    slip: Text | None = None


@dataclass(frozen=True)
class Either:
    """Clauses joined with "or" in the reader's language (made where shown, as ``Text`` is)."""

    clauses: tuple[Text, ...]

    def __str__(self) -> str:
        return _(", or if you ").join(str(c) for c in self.clauses)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


@dataclass(frozen=True)
class Exercise:
    kind: str
    seed: int
    given: Mapping[str, Any]  # the drawn numbers, for whoever wants to check the answer another way
    question: Text
    details: tuple[Text, ...]  # lines under the question (the layers of a chain)
    fields: tuple[Field, ...]
    answer: Mapping[str, Any]
    traps: tuple[Trap, ...]
    solution: tuple[Text | str, ...]  # the worked solution, step by step (formulas stay untranslated)

    @property
    def key(self) -> str:
        return f"{self.kind}-{self.seed}"


@dataclass(frozen=True)
class Feedback:
    complete: bool  # every field answered and readable
    correct: bool
    right: Mapping[str, bool]
    mistakes: tuple[str, ...]  # codes of the named mistakes recognised
    notes: tuple[Text, ...]  # what went wrong (or what is missing), field by field


# --- answers -------------------------------------------------------------------------------------

def parse_number(typed: str) -> float | None:
    """A typed number: ``1,180,160``, ``112.5``, full-width digits; None if it is not one."""
    cleaned = str(typed).strip()[:_MAX_TYPED]
    for sep in (",", "，", "_", " ", "\u00a0", "\u202f", "\u2009"):
        cleaned = cleaned.replace(sep, "")
    cleaned = cleaned.replace("．", ".").replace("。", ".")
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _near(value: float, target: float) -> bool:
    # A fractional target (a division that did not floor) is matched to two decimals as typed.
    return value == target if float(target).is_integer() else abs(value - target) < 0.05


def check(exercise: Exercise, answers: Mapping[str, Any]) -> Feedback:
    """Compare ``answers`` (field name -> typed text, bool, option or list of options) with the
    exercise's, naming every recognised mistake."""
    got: dict[str, Any] = {}
    notes: list[Text] = []
    for f in exercise.fields:
        raw = answers.get(f.name)
        if f.type == NUMBER:
            if raw is None or not str(raw).strip():
                notes.append(Text(N_("{field}: no answer yet."), field=f.label))
            elif (value := parse_number(raw)) is None:
                shown = text.markdown(str(raw).strip()[:_MAX_TYPED])
                notes.append(Text(N_("{field}: “{typed}” is not a number."), field=f.label, typed=shown))
            else:
                got[f.name] = value
        elif f.type == CHOICES and isinstance(raw, (list, tuple, set)) and set(raw) <= set(f.options):
            got[f.name] = frozenset(raw)
        elif (f.type == YESNO and isinstance(raw, bool)) or (f.type == CHOICE and raw in f.options):
            got[f.name] = raw
        else:
            notes.append(Text(N_("{field}: no answer yet."), field=f.label))
    if notes:
        return Feedback(False, False, {}, (), tuple(notes))

    right, mistakes = {}, []
    for f in exercise.fields:
        expected = exercise.answer[f.name]
        value = got[f.name]
        right[f.name] = value == (frozenset(expected) if f.type == CHOICES else expected)
        if right[f.name]:
            continue
        if f.type == CHOICES:
            missed, extra = sorted(set(expected) - value), sorted(value - set(expected))
            if missed:
                mistakes.append("missed")
                notes.append(Text(N_("{field}: {names} also belong."), field=f.label, names=Items(missed)))
            if extra:
                mistakes.append("extra")
                notes.append(Text(N_("{field}: {names} do not belong."), field=f.label, names=Items(extra)))
            continue
        named = [t for t in exercise.traps if t.field == f.name
                 and (t.values is None or (f.type == NUMBER and any(_near(value, v) for v in t.values)))]
        if not named:
            notes.append(Text(N_("{field}: not right; follow the worked solution."), field=f.label))
        new = list({t.code: t for t in named if t.code not in mistakes}.values())  # each mistake named once
        mistakes += [t.code for t in new]
        slips = [t for t in new if t.values is not None and t.slip is not None]
        if len(slips) > 1:  # one number, several ways to reach it: one diagnosis that names them all
            notes.append(Text(N_("{field}: {value} is what you get if you {slips}."), field=f.label,
                              value=_number(value), slips=Either(tuple(t.slip for t in slips))))
        notes += [t.why for t in new if len(slips) < 2 or t not in slips]
    return Feedback(True, all(right.values()), right, tuple(mistakes), tuple(notes))


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


Candidate = tuple[str, str, "tuple[float, ...] | None", Text, "Text | None"]  # code, field, values, why, slip


def _traps(answer: Mapping[str, Any], candidates: list[Candidate]) -> tuple[Trap, ...]:
    """The candidate mistakes that lead somewhere else than the right answer (a slip that gives the
    right number here is no mistake to name)."""
    traps = []
    for code, name, values, why, slip in candidates:
        if values is not None:
            values = tuple(dict.fromkeys(v for v in values if not _near(answer[name], v)))
            if not values:
                continue
        traps.append(Trap(code, name, values, why, slip))
    return tuple(traps)


YES_NO: dict[bool, str] = {True: N_("yes"), False: N_("no")}  # how a yes/no field's options read


# --- 1. output size --------------------------------------------------------------------------------

def output_size(rng: random.Random, seed: int, vgg: bool = False) -> Exercise:
    """in, F, P, S -> out, and whether the windows tile the padded input (divisions need not be exact)."""
    if vgg:  # the layers VGG is built of (Table 1's convs, 'same' padding as in layer_specs, its pooling)
        kernels = sorted({configs.parse_conv(t)[0] for b in configs.TABLE1.values() for t in sum(b, ())
                          if t.startswith("conv")})
        layer, kernel, padding, stride = rng.choice(
            [("conv", k, k // 2, configs.CONV_STRIDE) for k in kernels] + [("pool", configs.POOL[0], 0, configs.POOL[1])])
    elif rng.random() < 0.6:
        layer, kernel = "conv", rng.choice((1, 3, 5, 7, 11))
        padding, stride = rng.randint(0, kernel // 2), rng.choice((1, 2, 2, 3, 4))
    else:
        layer, (kernel, stride), padding = "pool", rng.choice(((2, 2), (3, 2), (3, 3))), 0
    return output_size_of(layer, rng.randint(max(kernel, 7), 230), kernel, padding, stride, seed)


def output_size_of(layer: str, size: int, kernel: int, padding: int, stride: int, seed: int = 0) -> Exercise:
    """The output-size exercise for these numbers (``layer``: "conv" or "pool")."""
    out = conv_output_size(size, kernel, stride, padding)
    num = size - kernel + 2 * padding
    rem = num % stride
    answer = {"out": out, "tiles": rem == 0}
    template = (N_("A conv layer with kernel size F = {f}, padding P = {p} and stride S = {s} gets a {size} × {size} "
                   "feature map. How large is its output, and do its windows tile the padded input evenly?")
                if layer == "conv" else
                N_("A max-pooling layer with pooling size F = {f}, padding P = {p} and stride S = {s} gets a "
                   "{size} × {size} feature map. How large is its output, and do its windows tile the padded "
                   "input evenly?"))
    params = dict(f=kernel, p=padding, s=stride, size=size)
    tiling = (Text(N_("in − F + 2P = {num} is a multiple of S = {s}: the windows tile the padded input evenly."),
                   num=num, s=stride) if rem == 0 else
              Text(N_("in − F + 2P = {num} leaves {rem} when divided by S = {s}: PyTorch floors, so the last "
                      "{rem} of the padded input's rows (and columns) are never covered."), num=num, rem=rem, s=stride))
    traps = _traps(answer, [
        ("no_padding", "out", (conv_output_size(size, kernel, stride, 0),),
         Text(N_("You left out the padding: with P = {p} the padded input is {padded} wide, not {size}."),
              p=padding, padded=size + 2 * padding, size=size),
         Text(N_("leave out the padding (with P = {p} the padded input is {padded} wide, not {size})"),
              p=padding, padded=size + 2 * padding, size=size)),
        ("padding_once", "out", ((size - kernel + padding) // stride + 1,),
         Text(N_("You added the padding once: it goes on both sides, so 2P = {twice}."), twice=2 * padding),
         Text(N_("add the padding on one side only (it goes on both: 2P = {twice})"), twice=2 * padding)),
        ("no_floor", "out", (num / stride + 1, -(-num // stride) + 1),
         Text(N_("You did not floor: {num} / {s} = {exact:.4g} is not whole, and PyTorch rounds the division "
                 "down (a window that would run past the edge is dropped)."), num=num, s=stride, exact=num / stride),
         Text(N_("do not floor {num} / {s} = {exact:.4g} (PyTorch rounds the division down)"), num=num, s=stride,
              exact=num / stride)),
        ("no_plus_one", "out", (num // stride, num / stride),
         Text(N_("You forgot the “+ 1”: (in − F + 2P) / S counts the steps between windows; the first window "
                 "adds one.")),
         Text(N_("forget the “+ 1” (the first window adds one)"))),
        ("tiling", "tiles", None, tiling, None),
    ])
    return Exercise(
        kind="output_size", seed=seed, given={"layer": layer, **params},
        question=Text(template, **params), details=(),
        fields=(Field("out", Text(N_("Output size out (height = width)"))),
                Field("tiles", Text(N_("Do the windows tile the padded input evenly?")), YESNO)),
        answer=answer, traps=traps,
        solution=("out = (in − F + 2P) / S + 1", lecture.size_formula(size, kernel, stride, padding), tiling),
    )


# --- 2. receptive field, top-down ----------------------------------------------------------------

def _chain(rng: random.Random, layers: tuple[int, int]) -> list[tuple[str, int, int]]:
    """2-5 layers from the input upwards, at least one with stride 2 below the top (otherwise the
    strides would not matter and no mistake with them could show)."""
    while True:
        kinds = []
        for _ in range(rng.randint(*layers)):
            if kinds and kinds[-1][0] == "Conv" and rng.random() < 0.35:
                kinds.append(("Pool", *rng.choice(((2, 2), (3, 2)))))
            else:
                kinds.append(("Conv", rng.choice((1, 3, 3, 5, 7)), rng.choice((1, 1, 2))))
        if any(s > 1 for _, _, s in kinds[:-1]) and kinds[0][1:] != (1, 1):
            break
    counts: dict[str, int] = {}
    chain = []
    for kind, kernel, stride in kinds:
        counts[kind] = counts.get(kind, 0) + 1
        chain.append((f"{kind}{counts[kind]}", kernel, stride))
    return chain


def receptive_field(rng: random.Random, seed: int, layers: tuple[int, int] = (2, 5)) -> Exercise:
    """A chain of convs and pools -> the receptive field of one top unit, by the lecture's recursion."""
    return receptive_field_of(_chain(rng, layers), seed)


def receptive_field_of(chain: list[tuple[str, int, int]], seed: int = 0) -> Exercise:
    """The receptive-field exercise for this chain of (name, kernel, stride), from the input upwards."""
    steps = lecture.topdown(chain)
    answer = {"rf": steps[-1].after}
    kernels = [k for _, k, _ in chain]
    forgot = 1
    for _, kernel, stride in reversed(chain):
        forgot = forgot * stride + kernel
    strides = [s for _, _, s in chain]
    above = strides[1:] + [1]  # each layer given the stride of the layer on top of it
    below = [1] + strides[:-1]  # ... or of the layer under it

    def recursion(new_strides: list[int]) -> int:
        return lecture.topdown([(n, k, s) for (n, k, _), s in zip(chain, new_strides)])[-1].after

    traps = _traps(answer, [
        ("no_minus_one", "rf", (forgot,),
         Text(N_("You forgot the “− 1”: F(i) = (F(i+1) − 1) × Stride + Ksize. Without it every layer adds "
                 "one Stride too many.")),
         Text(N_("forget the “− 1” in F(i) = (F(i+1) − 1) × Stride + Ksize"))),
        ("wrong_stride", "rf", (recursion(above), recursion(below)),
         Text(N_("You multiplied by the wrong layer's stride: in F(i) = (F(i+1) − 1) × Stride + Ksize, Stride "
                 "and Ksize both belong to layer i, the layer you are stepping down through.")),
         Text(N_("multiply by a neighbouring layer's stride (Stride and Ksize both belong to layer i)"))),
        ("added_kernels", "rf", (sum(kernels),),
         Text(N_("You went bottom-up adding the kernel sizes ({total}): a stride spreads every layer above it "
                 "over more input pixels. Start from F = 1 at the top unit and go top-down."), total=sum(kernels)),
         Text(N_("add up the kernel sizes bottom-up ({total}), leaving out how the strides spread them"),
              total=sum(kernels))),
        ("ignored_strides", "rf", (recursion([1] * len(chain)),),
         Text(N_("You left out the strides (as if every Stride were 1): in F(i) = (F(i+1) − 1) × Stride + "
                 "Ksize, each layer's Stride multiplies what was found above it.")),
         Text(N_("leave out the strides (as if every Stride were 1)"))),
    ])
    top = chain[-1][0]
    return Exercise(
        kind="receptive_field", seed=seed, given={"chain": tuple(chain)},
        question=Text(N_("These layers are stacked on the input, listed from the input upwards. How large is the "
                         "receptive field, on the input, of one unit of {top}'s output feature map?"), top=top),
        details=tuple(Text(N_("{name}: kernel {k}×{k}, stride {s}") if n.startswith("Conv") else
                           N_("{name}: pooling {k}×{k}, stride {s}"), name=n, k=k, s=s) for n, k, s in chain),
        fields=(Field("rf", Text(N_("Receptive field F (input pixels per side)"))),),
        answer=answer, traps=traps,
        solution=(Text(N_("Feature map: F = 1")), *(f"{s.layer}: F = {s.formula()}" for s in steps),
                  Text(N_("One unit of {top} sees {f} × {f} input pixels."), top=top, f=steps[-1].after)),
    )


# --- 3. parameters of a stack of 3x3 convs and of one big conv ---------------------------------------

def _conv_params(kernel: int, c_in: int, c_out: int, bias: bool) -> str:
    weights = f"{kernel} × {kernel} × {c_in} × {c_out}"
    return f"{weights} + {c_out}" if bias else weights


def parameters(rng: random.Random, seed: int, biases: bool | None = None) -> Exercise:
    """n stacked 3x3 convs vs one (2n+1)x(2n+1) conv, C channels in and out, with or without biases."""
    n, channels = rng.choice((2, 3, 3, 4)), rng.choice((8, 16, 32, 64, 128, 256, 512))
    bias = rng.random() < 0.5 if biases is None else biases
    cmp = lecture.stack_vs_single(n, channels, bias=bias)
    other = lecture.stack_vs_single(n, channels, bias=not bias)
    k, c = cmp.rf, channels
    answer = {"stacked": cmp.stacked_params, "single": cmp.single_params}
    flip = (("counted_biases", Text(N_("You counted the biases; this question leaves them out, as the slides do.")),
             Text(N_("count the biases (this question leaves them out)")))
            if not bias else
            ("forgot_biases", Text(N_("You left out the biases: every conv has one per output channel, C = {c}."), c=c),
             Text(N_("leave out the biases (one per output channel, C = {c})"), c=c)))
    not_squared = Text(N_("You used C instead of C²: a k×k conv from C channels to C channels has k × k × C × C "
                          "weights."))
    not_squared_slip = Text(N_("use C instead of C² (k × k × C × C weights)"))
    extra = c if bias else 0
    traps = _traps(answer, [
        (flip[0], "stacked", (other.stacked_params,), flip[1], flip[2]),
        (flip[0], "single", (other.single_params,), flip[1], flip[2]),
        ("c_not_squared", "stacked", (n * 9 * c + n * extra,), not_squared, not_squared_slip),
        ("c_not_squared", "single", (k * k * c + extra,), not_squared, not_squared_slip),
        ("one_conv", "stacked", (9 * c * c + extra,),
         Text(N_("You counted one 3×3 conv; the stack has {n}, each with its own weights."), n=n),
         Text(N_("count one 3×3 conv instead of {n}"), n=n)),
    ])
    question = (N_("Compare {n} stacked 3×3 convs with one {k}×{k} conv: both see {k}×{k} input pixels. Every "
                   "conv has C = {c} input and C = {c} output channels. Count the parameters including the "
                   "biases (one per output channel).") if bias else
                N_("Compare {n} stacked 3×3 convs with one {k}×{k} conv: both see {k}×{k} input pixels. Every "
                   "conv has C = {c} input and C = {c} output channels. Count the weights only, without "
                   "biases, as the slides do."))
    stacked = f"{n} × ({_conv_params(3, c, c, bias)}) = {cmp.stacked_params:,}"
    single = f"{_conv_params(k, c, c, bias)} = {cmp.single_params:,}"
    return Exercise(
        kind="parameters", seed=seed, given={"n": n, "channels": c, "bias": bias},
        question=Text(question, n=n, k=k, c=c), details=(),
        fields=(Field("stacked", Text(N_("Parameters of the {n} stacked 3×3 convs"), n=n)),
                Field("single", Text(N_("Parameters of the one {k}×{k} conv"), k=k))),
        answer=answer, traps=traps,
        solution=(f"{n} × 3 × 3 × C × C = {9 * n}C²,   {k} × {k} × C × C = {k * k}C²",
                  Text(N_("{n} stacked 3×3 convs: {formula}"), n=n, formula=stacked),
                  Text(N_("One {k}×{k} conv: {formula}"), k=k, formula=single),
                  Text(N_("The same receptive field with {saving:.0%} fewer parameters."),
                       saving=1 - cmp.stacked_params / cmp.single_params)),
    )


# --- 4. shapes and parameters of a layer of a configuration -----------------------------------------

def _sizes(config: str, size: int, name: str, *, pad: bool = True, floor: bool = True) -> int:
    """One side of ``name``'s output when convs are unpadded or divisions round up (the mistakes)."""
    for spec in layer_specs(config):
        if spec.type in ("conv", "pool"):
            padding = spec.padding if pad else 0
            num = size - spec.kernel + 2 * padding
            size = (num // spec.stride if floor else -(-num // spec.stride)) + 1
            if size < 1:
                return 0
        if spec.name == name:
            return size
    raise ValueError(f"no layer {name!r}")


def _shape_step(row: Layer) -> str:
    """``conv3_1: 256×56×56    (out = (56 − 3 + 2·1) / 1 + 1 = 56)``, both sides when they differ."""
    height, width = lecture.output_size_formula(row, 1), lecture.output_size_formula(row, 2)
    formula = height if height == width else f"H: {height};  W: {width}"
    return f"{row.name}: {shape_text(row.out_shape)}    ({formula})"


def vgg_shapes(rng: random.Random, seed: int, config: str | None = None) -> Exercise:
    """A conv or pool layer of a configuration at an input size -> its output shape and parameters."""
    config = configs.resolve(config or rng.choice(list(configs.TABLE1))).name
    if rng.random() < 0.5:
        h = w = configs.DEFAULT_INPUT
    else:
        h = rng.randint(64, 320)
        w = h if rng.random() < 0.6 else rng.randint(64, 320)
    rows = layer_table(config, (h, w))
    spatial = [r for r in rows if r.type in ("conv", "pool")]
    row = rng.choice(spatial)
    channels, height, width = row.out_shape
    answer = {"channels": channels, "height": height, "width": width, "params": row.params}
    pools = sum(r.type == "pool" for r in spatial[:spatial.index(row) + 1])
    c_in = row.in_shape[0]
    candidates: list[Candidate] = []
    for side, start in (("height", h), ("width", w)):
        candidates += [
            ("pool_count", side, (start // 2 ** (pools + 1),) + ((start // 2 ** (pools - 1),) if pools else ()),
             Text(N_("Count the max-pooling layers up to {layer}: {pools} of them, each halving height and width."),
                  layer=row.name, pools=pools),
             Text(N_("miscount the max-pooling layers (up to {layer} there are {pools})"),
                  layer=row.name, pools=pools)),
            ("no_floor", side, (_sizes(config, start, row.name, floor=False),),
             Text(N_("PyTorch floors: a max pooling of an odd size drops the last row (or column).")),
             Text(N_("round up after a max pooling of an odd size (PyTorch floors)"))),
            ("no_padding", side, (_sizes(config, start, row.name, pad=False),),
             Text(N_("A 3×3 conv with padding 1 and stride 1 keeps the size: (in − 3 + 2·1) / 1 + 1 = in.")),
             Text(N_("leave out the convs' padding (a 3×3 conv with padding 1 and stride 1 keeps the size)"))),
        ]
    candidates.append(("in_channels", "channels", (c_in,),
                       Text(N_("{c_in} channels go into {layer}; count the channels coming out."), c_in=c_in,
                            layer=row.name),
                       Text(N_("count the channels going in ({c_in}), not those coming out"), c_in=c_in)))
    if row.type == "pool":
        candidates.append(("pool_params", "params", None,
                           Text(N_("A max pooling has no weights: 0 parameters.")), None))
        param_steps: tuple[Text | str, ...] = (
            Text(N_("{layer} is a max pooling: no weights, 0 parameters."), layer=row.name),)
    else:
        k = row.kernel
        candidates += [
            ("no_bias", "params", (row.params - channels,),
             Text(N_("You left out the biases: one per output channel, {c} of them."), c=channels),
             Text(N_("leave out the biases (one per output channel, {c} of them)"), c=channels)),
            ("in_channels", "params", (k * k * channels * channels + channels,),
             Text(N_("{layer} has {c_in} input channels, not {c}: its weights are k × k × C_in × C_out."),
                  layer=row.name, c_in=c_in, c=channels),
             Text(N_("take {c} input channels ({layer} has {c_in})"), c=channels, layer=row.name, c_in=c_in)),
            ("kernel", "params", (9 * c_in * channels + channels,),
             Text(N_("{layer} is a {k}×{k} conv (conv{k}-{c} in Table 1)."), layer=row.name, k=k, c=channels),
             Text(N_("take {layer} for a 3×3 conv (it is {k}×{k})"), layer=row.name, k=k)),
        ]
        param_steps = (Text(N_("Parameters of {layer}: {formula}"), layer=row.name,
                            formula=f"{_conv_params(k, c_in, channels, True)} = {row.params:,}"),)
    shape_steps = tuple(_shape_step(r) for r in spatial[:spatial.index(row) + 1])
    return Exercise(
        kind="vgg_shapes", seed=seed, given={"config": config, "input": (h, w), "layer": row.name},
        question=Text(N_("Configuration {config} gets a {h} × {w} RGB input. What shape (channels × height × width) "
                         "does its layer {layer} output, and how many parameters (weights and biases) does "
                         "{layer} have?"), config=config, h=h, w=w, layer=row.name),
        details=(),
        fields=(Field("channels", Text(N_("Channels"))), Field("height", Text(N_("Height"))),
                Field("width", Text(N_("Width"))), Field("params", Text(N_("Parameters")))),
        answer=answer, traps=_traps(answer, candidates),
        solution=(Text(N_("Input: {shape}"), shape=shape_text(rows[0].in_shape)), *shape_steps, *param_steps),
    )


# --- 5. the configurations of Table 1 -------------------------------------------------------------

def _convs(name: str) -> list[tuple[int, int]]:
    return [configs.parse_conv(t) for block in configs.TABLE1[name] for t in block if t.startswith("conv")]


def configurations(rng: random.Random, seed: int) -> Exercise:
    """Facts read off Table 1: 1x1 convs, weight layers, LRN, equal depths."""
    names = tuple(configs.TABLE1)
    ask = rng.choice(("one_by_one", "lrn", "weight_layers", "depth"))
    depth = {n: configs.Config(n).weight_layers for n in names}
    fc = len(configs.CLASSIFIER)
    counts = [Text(N_("{config}: {convs} conv layers + {fc} fully connected layers = {total} weight layers"),
                   config=n, convs=depth[n] - fc, fc=fc, total=depth[n]) for n in names]
    traps: tuple[Trap, ...] = ()
    if ask == "one_by_one":
        answer = {"configs": tuple(n for n in names if any(k == 1 for k, _ in _convs(n)))}
        question = Text(N_("Which configurations of Table 1 use 1×1 convs (conv1-…)?"))
        field_ = Field("configs", Text(N_("Configurations with 1×1 convs")), CHOICES, names)
        solution = tuple(
            Text(N_("{config}: {convs}"), config=n, convs=Items(f"conv{k}-{c}" for k, c in _convs(n) if k == 1))
            if n in answer["configs"] else Text(N_("{config}: 3×3 convs only"), config=n) for n in names)
    elif ask == "lrn":
        with_lrn = [n for n in names if any("LRN" in block for block in configs.TABLE1[n])]
        answer = {"config": with_lrn[0]}
        question = Text(N_("Which configuration of Table 1 has an LRN layer (local response normalisation)?"))
        field_ = Field("config", Text(N_("Configuration with LRN")), CHOICE, names)
        specs = layer_specs(with_lrn[0])
        after = [specs[i - 2].name for i, s in enumerate(specs) if s.type == "lrn"]  # conv, relu, lrn
        solution = (Text(N_("{config}: LRN after {layer}; no other configuration has one."), config=with_lrn[0],
                         layer=Items(after)),)
        traps = (Trap("not_lrn", "config", None, Text(N_("Only one column of Table 1 has LRN: the one named after it."))),)
    elif ask == "weight_layers":
        name = rng.choice(names)
        answer = {"layers": depth[name]}
        lrns = sum(block.count("LRN") for block in configs.TABLE1[name])
        question = Text(N_("How many weight layers does configuration {config} have?"), config=name)
        field_ = Field("layers", Text(N_("Weight layers")))
        solution = (counts[names.index(name)],
                    Text(N_("Max pooling, LRN and soft-max have no weights and do not count.")))
        traps = _traps(answer, [
            ("conv_only", "layers", (depth[name] - fc,),
             Text(N_("You counted the conv layers only; the {fc} fully connected layers have weights too."), fc=fc),
             Text(N_("count the conv layers only (the {fc} fully connected layers have weights too)"), fc=fc)),
            ("counted_pools", "layers", (depth[name] + len(configs.TABLE1[name]),),
             Text(N_("You counted the max-pooling layers: they have no weights.")),
             Text(N_("count the max-pooling layers (they have no weights)"))),
            ("counted_lrn", "layers", (depth[name] + lrns,) if lrns else (),
             Text(N_("You counted the LRN layer: it has no weights.")),
             Text(N_("count the LRN layer (it has no weights)"))),
            ("counted_softmax", "layers", (depth[name] + 1,),
             Text(N_("You counted soft-max: it has no weights.")),
             Text(N_("count soft-max (it has no weights)"))),
        ])
    else:
        target = rng.choice(sorted(set(depth.values())))
        answer = {"configs": tuple(n for n in names if depth[n] == target)}
        question = Text(N_("Which configurations of Table 1 have {n} weight layers?"), n=target)
        field_ = Field("configs", Text(N_("Configurations with {n} weight layers"), n=target), CHOICES, names)
        solution = tuple(counts)
    return Exercise(
        kind="configurations", seed=seed, given={"ask": ask}, question=question, details=(), fields=(field_,),
        answer=answer, traps=traps, solution=solution,
    )


GENERATORS: dict[str, Callable[..., Exercise]] = {
    "output_size": output_size,
    "receptive_field": receptive_field,
    "parameters": parameters,
    "vgg_shapes": vgg_shapes,
    "configurations": configurations,
}


def make(kind: str, seed: int, **options: Any) -> Exercise:
    """The exercise of ``kind`` that ``seed`` draws (the same seed, the same numbers)."""
    return GENERATORS[kind](random.Random(seed), seed, **options)


@dataclass
class Score:
    """Per kind, the exercises a student checked and how many were right at the first complete check
    (checking again after seeing the solution does not count twice)."""

    first: dict[str, tuple[str, bool]] = field(default_factory=dict)  # exercise key -> (kind, right)

    def record(self, exercise: Exercise, feedback: Feedback) -> None:
        if feedback.complete and exercise.key not in self.first:
            self.first[exercise.key] = (exercise.kind, feedback.correct)

    def by_kind(self) -> dict[str, tuple[int, int]]:
        """kind -> (right the first time, tried), every kind listed."""
        out = {kind: (0, 0) for kind in KINDS}
        for kind, right in self.first.values():
            done, tried = out[kind]
            out[kind] = (done + right, tried + 1)
        return out
