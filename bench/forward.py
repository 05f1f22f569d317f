"""The forward-pass figures of ``python -m bench``: the whole pipeline of a new photo, rendering every conv
layer's grid, and (CUDA only) float16 images per second, each against a bare torchvision forward."""

from __future__ import annotations

import torch
from torchvision import models

from bench.timing import CONFIG, Bench, paired
from vggviz.photo import images, inference, memory, render


def pipeline(bench: Bench) -> None:
    def nchw():
        with torch.inference_mode():
            return bench.reference(bench.x)
    cl, plain = paired(bench.bare_forward(), nchw, bench.repeats)
    bench.rows.append({"figure": "bare_forward", "what": f"torchvision {CONFIG} forward, inference_mode, NCHW",
                       "value": round(plain * 1000, 2), "baseline": "channels_last",
                       "baseline_value": round(cl * 1000, 2), "unit": "ms", "ratio": round(cl / plain, 3),
                       "target": None, "ok": None})

    def run():
        image = images.decode_image(bench.photo_bytes, "chelsea.jpg")
        result = inference.run(bench.lm, image)
        memory.release_free_memory()  # as the app does after every new forward pass
        return result.top(bench.lm.classes, 5)
    bench.add("pipeline", *paired(run, bench.bare_forward(), bench.repeats),
              "decode + preprocess + forward + every conv map (float16) + top-5 + memory release",
              "bare forward (channels_last)")


def render_maps(bench: Bench) -> None:
    result = inference.run(bench.lm, bench.photo)

    def run():
        return [render.tile(m, max_width=render.DISPLAY_WIDTH) for m in result.features.values()]
    bench.add("render", *paired(run, bench.bare_forward(), bench.repeats),
              "tile every conv layer's grid at display width (13 layers)", "bare forward")


def half(bench: Bench) -> None:
    if bench.device.type != "cuda":
        return
    half_ref = models.vgg16().eval().to(bench.device, torch.float16, memory_format=torch.channels_last)
    half_ref.load_state_dict(bench.state)
    x = bench.x.to(torch.float16, memory_format=torch.channels_last)
    batch = x.repeat(32, 1, 1, 1)

    def bare():
        with torch.inference_mode():
            half_ref(batch)
    lm = bench.fresh_model()
    inference.to_device(lm, bench.device, True)

    def ours():
        with torch.inference_mode():
            lm.model(batch)
    o, b = paired(ours, bare, bench.repeats)
    bench.rows.append({"figure": "half_images_per_s", "what": "vggviz model, fp16 + channels_last, batch 32",
                       "value": round(32 / o, 1), "unit": "img/s", "baseline": "bare fp16 forward",
                       "baseline_value": round(32 / b, 1), "ratio": round(o / b, 3), "target": None, "ok": None})
