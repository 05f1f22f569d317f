"""Issue 12's figures (``python -m bench --only erf``): the effective receptive field and one unit's computation,
each against a baseline timed in the same run (``bench.timing.paired``)."""

from __future__ import annotations

from bench.timing import TARGETS, Bench, paired
from vggviz.explain import erf, unit as units
from vggviz.photo import inference

TARGETS.update({"erf_one_layer": 1.2, "erf_every_layer": 13, "erf_16_batched": 1.1, "unit": 0.1})
LAYER = "conv5_3"  # the deepest conv: the longest way back to the input


def figures(self: Bench) -> None:
    one_pass = self.bare_forward_backward()
    self.add("erf_one_layer", *paired(lambda: erf.measure(self.lm, self.x, LAYER), one_pass, self.repeats),
             f"ERF of {LAYER}'s centre unit, one photo (captum NeuronGradient, features up to its ReLU)",
             "bare forward+backward, whole network")
    self.add("erf_every_layer", *paired(lambda: erf.every_layer(self.lm, self.x), one_pass,
                                        max(1, self.repeats // 2)),
             "ERF of every conv layer's centre unit, one photo (the all-layers chart)",
             "bare forward+backward, whole network")
    size = tuple(self.x.shape[2:])
    noise = erf.noise(16, size, seed=0)
    singles = [noise[i:i + 1] for i in range(16)]
    self.add("erf_16_batched", *paired(lambda: erf.measure(self.lm, noise, LAYER),
                                       lambda: [erf.measure(self.lm, s, LAYER) for s in singles],
                                       max(1, self.repeats // 2)),
             f"ERF of {LAYER} over 16 noise inputs, batched", f"16 single-input ERFs of {LAYER}")
    result = inference.run(self.lm, self.photo)
    inputs = units.layer_input(self.lm, result, LAYER)
    self.add("unit", *paired(lambda: units.conv_unit(self.lm, result, LAYER, 7, (5, 9), inputs),
                             self.bare_forward(), max(self.repeats, 15)),
             f"one unit's computation at {LAYER} (512 input channels), its layer's input cached",
             "bare forward (channels_last)")
    self.add("unit_first", *paired(lambda: units.conv_unit(self.lm, result, LAYER, 7, (5, 9)),
                                   self.bare_forward(), self.repeats),
             f"the first unit of {LAYER} for a photo: partial forward to its input, then the unit",
             "bare forward (channels_last)")


