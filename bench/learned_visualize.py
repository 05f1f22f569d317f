"""Issue 22's feature-visualisation figures (``python -m bench --only visualize``), each against a baseline
timed in the same run (``bench.timing.paired``):

- ``visualize_step``: one optimisation step of one channel (lucent's 128 px image, upsampled to 224; Fourier
  image, decorrelated colour, transforms, Adam) against a bare forward+backward of the same truncated network
  (torchvision's ``features[:k+1]``, frozen) on a 224×224 input, batch 1.
- ``visualize_batch8``: one step of 8 channels as one batch against 8 one-channel steps (and ``_quick``: the
  same at ``visualize.QUICK``'s 96 px, not upsampled, a CPU's choice); ``visualize_step8``: that batch against a
  bare forward+backward at batch 8.
"""

from __future__ import annotations

import torch

from bench.timing import TARGETS, Bench, paired
from vggviz.learned import network, visualize as vis
from vggviz.photo import inference

TARGETS.update({"visualize_step": 1.15, "visualize_batch8": 0.6})
LAYER = "conv3_3"
CHANNELS = list(range(8))


def figures(self: Bench) -> None:
    settings = vis.Settings()  # lucent's: 128 px, upsampled to 224
    bare_net = self.cl_reference.features[: network.check_layer(self.lm, LAYER) + 1]
    size = settings.upsample or settings.size

    def bare(batch: int):
        x = torch.rand(batch, 3, size, size, device=self.device).to(memory_format=inference.LAYOUT)
        x.requires_grad_(True)

        def run():
            out = bare_net(x)
            (grad,) = torch.autograd.grad(out[:, 0].mean(), x)
            return grad
        return run

    one = vis.channel_run(self.lm, LAYER, [0], settings, seed=0)
    self.add("visualize_step", *paired(one.step, bare(1), self.repeats),
             f"one feature-visualisation step of {LAYER}, 1 channel (128 px image upsampled to 224)",
             f"bare forward+backward of features up to {LAYER}, 224×224, batch 1")
    batch = vis.channel_run(self.lm, LAYER, CHANNELS, settings, seed=0)
    singles = [vis.channel_run(self.lm, LAYER, [c], settings, seed=0) for c in CHANNELS]
    self.add("visualize_batch8", *paired(batch.step, lambda: [r.step() for r in singles], max(1, self.repeats // 2)),
             f"one step of 8 channels of {LAYER} as one batch", "8 one-channel steps")
    self.add("visualize_step8", *paired(batch.step, bare(8), max(1, self.repeats // 2)),
             f"one step of 8 channels of {LAYER} as one batch", f"bare forward+backward up to {LAYER}, batch 8")
    quick = vis.QUICK  # the CPU's choice: 96 px, not upsampled
    batch = vis.channel_run(self.lm, LAYER, CHANNELS, quick, seed=0)
    singles = [vis.channel_run(self.lm, LAYER, [c], quick, seed=0) for c in CHANNELS]
    self.add("visualize_batch8_quick", *paired(batch.step, lambda: [r.step() for r in singles], self.repeats),
             f"one step of 8 channels of {LAYER} as one batch, {quick.size} px not upsampled",
             "8 one-channel steps")
