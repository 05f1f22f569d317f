"""The Attributions page's figures of ``python -m bench``: captum's Integrated Gradients against as many bare
forward+backward passes, and the Grad-CAM strip at the block ends against one."""

from __future__ import annotations

from bench.timing import Bench, paired
from vggviz.explain.attributions import Params, attributor, block_ends, default_batch


def integrated_gradients(bench: Bench) -> None:
    att = attributor(bench.lm)
    params = Params("integrated_gradients", 3, steps=32)
    one = bench.bare_forward_backward()

    def bare32():
        for _ in range(32):
            one()
    bench.add("integrated_gradients", *paired(lambda: att.attribute(bench.x, params), bare32,
                                              max(1, bench.repeats // 3), warmup=0),
              f"captum IG, 32 steps, internal batch {default_batch(bench.device)}", "32 × bare forward+backward")
    names = block_ends(bench.lm.model)
    bench.add("gradcam_strip", *paired(lambda: att.strip(bench.x, 3, names), one, bench.repeats),
              "Grad-CAM at the 5 block ends (one forward + one backward, torch hooks)", "1 × bare forward+backward")
