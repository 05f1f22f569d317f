"""The CAM family and faithfulness figures of ``python -m bench`` (``--only cams``), each against bare torchvision
forwards in the same run:

- deletion + insertion with S = 20, batched: ≤ 1.1 × 2·(S+1) bare single-image forwards;
- Score-CAM at conv5_3: ≤ 1.1 × the same number of bare batched forwards (one single-image forward, then
  ⌈512 / batch⌉ batches);
- grad-cam's gradient methods and Eigen-CAM at conv5_3 from one shared pass: ≤ 1.5 × one bare forward + backward.
"""

from __future__ import annotations

import math

import torch

from bench import timing
from vggviz.explain import cams, faithfulness
from vggviz.explain.attributions import attributor
from vggviz.photo import inference

TARGETS = {"deletion_insertion": 1.10, "scorecam": 1.10, "cam_family": 1.5}
LAYER = "conv5_3"


def run(bench: timing.Bench) -> None:
    timing.TARGETS.update(TARGETS)
    att = attributor(bench.lm)
    x = bench.x
    target = 3
    one = bench.bare_forward()
    steps = faithfulness.STEPS
    sal = torch.rand(x.shape[2:], generator=torch.Generator().manual_seed(0)).numpy()

    def bare_single():
        for _ in range(2 * (steps + 1)):
            one()
    bench.add("deletion_insertion", *timing.paired(
        lambda: faithfulness.evaluate(att, x, "imagenet", sal, target, steps, road=(), baselines=()), bare_single,
        max(1, bench.repeats // 3)),
        f"deletion + insertion, S = {steps}, batches of {cams.forward_batch(bench.device)}",
        f"{2 * (steps + 1)} × bare forward")

    batch = cams.forward_batch(bench.device)
    channels = cams.layer_shape(att, LAYER, x)[0]
    batched = x.to(memory_format=inference.LAYOUT).repeat(batch, 1, 1, 1)

    def bare_scorecam():
        one()
        with torch.inference_mode():
            for _ in range(math.ceil(channels / batch)):
                bench.cl_reference(batched)
    params = cams.CamParams("scorecam", target, LAYER, batch=batch)
    bench.add("scorecam", *timing.paired(lambda: cams.cam(att, x, params), bare_scorecam,
                                         max(1, bench.repeats // 3), warmup=0),
              f"Score-CAM at {LAYER}: {channels} channels in batches of {batch}",
              f"1 + {math.ceil(channels / batch)} bare batched forwards", unit="s")

    shared = [m for m in cams.LIBRARY if m not in cams.PER_CHANNEL]
    bench.add("cam_family", *timing.paired(lambda: cams.family(att, x, target, LAYER, shared),
                                           bench.bare_forward_backward(), bench.repeats),
              f"{', '.join(shared)} at {LAYER} from one shared pass", "1 × bare forward+backward")
