"""The guided lesson: the slides' steps in their order, each naming its explanation, the live widget
that shows it and the kind of exercise that practises it. Data only (the app draws it); torch-free.

Numbers in the explanations are derived from the configuration data, not typed.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import configs
from .exercises import Exercise, make
from .layers import find, layer_table
from .. import text
from ..i18n import Items, N_, Text, TranslatableError

CONFIG = "D"  # the lecture's network: VGG-16
INPUT = configs.DEFAULT_INPUT
_DEPTHS = sorted({configs.Config(n).weight_layers for n in configs.TABLE1})
_POOL5 = find(layer_table(CONFIG, INPUT), f"pool{len(configs.TABLE1[CONFIG])}")


@dataclass(frozen=True)
class Step:
    key: str
    title: str  # N_-marked
    explanation: Text
    widget: str  # the live widget the app shows (ui.lecture draws each)
    exercise: str  # a kind of exercises.KINDS
    formula: str | None = None  # LaTeX, as on the slides (formulas stay untranslated)
    options: Mapping[str, Any] = field(default_factory=dict)  # for the exercise generator

    def exercise_for(self, seed: int) -> Exercise:
        return make(self.exercise, seed, **self.options)


STEPS: tuple[Step, ...] = (
    Step("ilsvrc", N_("VGG at ILSVRC 2014"), Text(N_(
        "VGG was proposed in 2014 by the well-known Visual Geometry Group (VGG) of the University of Oxford. "
        "In that year's ImageNet competition it won first place in the Localization Task and second place in "
        "the Classification Task. The paper: Karen Simonyan and Andrew Zisserman, *Very Deep Convolutional "
        "Networks for Large-Scale Image Recognition*. The table puts the parameters computed from each "
        "configuration beside the paper's Table 2 (parameters) and Table 3 (error rates).")),
        widget="comparison", exercise="configurations"),
    Step("table1", N_("Table 1: six configurations"), Text(N_(
        "Table 1 of the paper lists {count} configurations, {names}, with {low} to {high} weight layers "
        "(conv layers and fully connected layers). The input is a {size} × {size} RGB image; {blocks} blocks of "
        "conv layers, each closed by a max pooling, then FC-4096, FC-4096, FC-1000 and soft-max. conv3-64 "
        "is a 3×3 conv layer with 64 output channels; C also uses 1×1 convs (conv1-256, conv1-512), A-LRN "
        "adds LRN (local response normalisation). D is the VGG-16 of this lecture."),
        count=len(configs.TABLE1), names=Items(configs.TABLE1), low=_DEPTHS[0], high=_DEPTHS[-1], size=INPUT,
        blocks=len(configs.TABLE1[CONFIG])),
        widget="table1", exercise="configurations"),
    Step("highlight", N_("The highlight: stacking 3×3 convs"), Text(N_(
        "The highlight of the network: stacking several 3×3 kernels replaces a large kernel (and needs fewer "
        "parameters). The paper notes that two stacked 3×3 kernels can replace one 5×5 kernel, and three "
        "stacked 3×3 kernels one 7×7 kernel: they have the same receptive field. Move n to compare n stacked "
        "3×3 convs with one (2n+1)×(2n+1) conv.")),
        widget="stack", exercise="parameters", options={"biases": False}),
    Step("receptive_field", N_("What a receptive field is"), Text(N_(
        "In a convolutional neural network, the size of the region of the input that determines one element "
        "of a layer's output is called its receptive field. Put simply: the size of the region of the input "
        "that one unit of the output feature map corresponds to. Pick a layer of VGG-16 and one of its units: "
        "the box is the part of the photo that unit sees.")),
        widget="unit_box", exercise="receptive_field", options={"layers": (2, 2)}),
    Step("output_size", N_("The output-size formula"), Text(N_(
        "A conv or pooling layer with kernel size F, padding P and stride S turns an in × in feature map into "
        "an out × out one. When in − F + 2P is not a multiple of S, the last window would run past the edge: "
        "PyTorch rounds the division down (floor), and what is left over is never seen. Pick a layer to see "
        "the formula with its numbers.")),
        widget="output_size", exercise="output_size"),  # the widget writes the formula with its legend
    Step("rf_formula", N_("The receptive-field formula"), Text(N_(
        "F(i) is the receptive field of layer i, Stride is the stride of layer i, Ksize is the size of its "
        "conv or pooling kernel. Start from F = 1 at one unit of the feature map and work top-down, layer by "
        "layer, to the input. The slides work two examples; the table on the right does the same for any "
        "layer of VGG-16.")),
        widget="topdown", exercise="receptive_field"),  # the widget writes the formula with its legend
    Step("parameters", N_("49C² versus 27C²"), Text(N_(
        "The parameters a 7×7 kernel needs against those of three stacked 3×3 kernels, assuming C input and "
        "output channels (biases left out, as on the slides): the stack sees as much with fewer parameters, "
        "and puts a ReLU after each of its convs.")),
        widget="stack", exercise="parameters",
        formula=r"7 \times 7 \times C \times C = 49C^2 \quad\text{vs}\quad "
                r"3 \times (3 \times 3 \times C \times C) = 27C^2"),
    Step("vgg_rules", N_("Conv stride 1, padding 1; max pooling size 2, stride 2"), Text(N_(
        "In VGG every conv has stride 1 and padding 1, so a 3×3 conv keeps the height and width of the "
        "feature map; every max pooling has size 2 and stride 2 and halves them. From {size} × {size}, the "
        "{pools} max poolings leave {out} × {out}. Hover over the bars for each layer's formula."),
        size=INPUT, pools=len(configs.TABLE1[CONFIG]), out=_POOL5.out_shape[1]),
        widget="feature_maps", exercise="output_size", options={"vgg": True}),
    Step("vgg16", N_("VGG-16 (D), layer by layer"), Text(N_(
        "Configuration D (VGG-16) at {size} × {size}, layer by layer: every layer's output shape, its "
        "parameters (k × k × C_in × C_out weights plus C_out biases) and its receptive field r. pool5 sees "
        "{rf} × {rf} input pixels."), size=INPUT, rf=_POOL5.rf),
        widget="layer_table", exercise="vgg_shapes", options={"config": CONFIG}),
)


class LessonError(TranslatableError):
    """A hand-edited ``?step=`` or ``?seed=`` that the lesson cannot use."""

    MESSAGES = {
        "no_step": N_("There is no step “{value}” in this lesson: its steps are 1 to {last}."),
        "no_seed": N_("“{value}” is not a seed (a whole number below {limit}); the numbers are drawn at random."),
    }


SEED_LIMIT = 2**31


def parse_step(value: str | int | None) -> int:
    """``?step=N`` (1-based, as shown) -> the step's index; LessonError when there is no such step."""
    typed = str(value).strip()
    if not (typed.isascii() and typed.isdigit() and 1 <= int(typed) <= len(STEPS)):
        raise LessonError("no_step", value=text.markdown(typed[:20]), last=len(STEPS))
    return int(typed) - 1


def parse_seed(value: str | int) -> int:
    """``?seed=N``: a teacher's seed, so that the whole class gets the same numbers."""
    typed = str(value).strip()
    if not (typed.isascii() and typed.isdigit() and int(typed) < SEED_LIMIT):
        raise LessonError("no_seed", value=text.markdown(typed[:20]), limit=SEED_LIMIT)
    return int(typed)


def exercise_seed(student: int | str, step: int, draw: int) -> int:
    """The seed of a student's ``draw``-th exercise at ``step``: the same for the same student seed (a
    teacher's ``?seed=``), different for every step and every "new numbers"."""
    return random.Random(f"{student}:{STEPS[step].key}:{draw}").randrange(SEED_LIMIT)
