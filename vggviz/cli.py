"""``python -m vggviz``: the engine from a terminal. Errors are one line on stderr and exit status 2."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from .architecture import configs
from .explain.methods import ALL_METHODS as _ALL_METHODS, CAM_METHODS as _CAM_METHODS, FAITHFULNESS_STEPS
from .i18n import _



class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming the allowed values, not the whole usage text."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def _config(value: str) -> configs.Config:
    try:
        return configs.resolve(value)
    except configs.UnknownConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _input_size(value: str) -> tuple[int, int]:
    try:
        return configs.parse_input_size(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m vggviz", description="See inside VGG networks from the command line.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser("summary", help="the layer table of a configuration")
    p.add_argument("config", type=_config, metavar="CONFIG",
                   help=f"one of {', '.join(configs.NAMES)} or {', '.join(configs.ALIASES)}")
    p.add_argument("--input-size", type=_input_size, default=(configs.DEFAULT_INPUT,) * 2,
                   metavar="N|HxW", help="input size, N (square) or HxW, at least 32 (default 224)")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table")
    p.set_defaults(func=_summary)

    model_args = _Parser(add_help=False)
    model_args.add_argument("--config", type=_config, default=configs.resolve("vgg16"), metavar="CONFIG",
                            help="configuration (default vgg16); ignored for a checkpoint, read from its keys")
    model_args.add_argument("--weights", default="imagenet", metavar="imagenet|random|PATH",
                            help="ImageNet weights from torch hub's cache, untrained, or a checkpoint file")
    model_args.add_argument("--classes", metavar="JSON", help="class_indices.json for a checkpoint")
    model_args.add_argument("--preprocess", choices=("imagenet", "lecture"),
                            help="default: what the weights expect (lecture for lecture checkpoints)")
    model_args.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto")
    model_args.add_argument("--half", action="store_true", help="half precision (GPU only)")

    p = sub.add_parser("predict", parents=[model_args], help="top-k predictions for photos")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--topk", type=int, default=5)
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=_predict)

    p = sub.add_parser("features", parents=[model_args], help="one PNG grid per conv layer")
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--relu", action="store_true", help="maps after ReLU (default: before)")
    p.set_defaults(func=_features)

    p = sub.add_parser("attribute", parents=[model_args], help="an attribution map for a photo (captum or grad-cam)")
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--method", required=True, choices=list(_ALL_METHODS))
    p.add_argument("--layer", default=None, help="conv layer for gradcam, guided_gradcam and the CAM family "
                                                  "(default: the last)")
    p.add_argument("--target", default="predicted", help="'predicted' or a class index")
    p.add_argument("--steps", type=int, default=32, help="integrated gradients steps")
    p.add_argument("--out", required=True, metavar="FILE.png|FILE.npy")
    _cam_options(p)
    p.set_defaults(func=_attribute)

    p = sub.add_parser("download", help="fetch ImageNet weights into torch hub's cache")
    p.add_argument("configs", nargs="+", type=_config, metavar="CONFIG")
    p.set_defaults(func=_download)

    p = sub.add_parser("metrics", parents=[model_args],
                       help=_("how faithful a method's map is (deletion, insertion, Average Drop, ROAD), beside a "
                              "random map and the photo's Sobel edges"))
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--method", required=True, choices=list(_ALL_METHODS))
    p.add_argument("--layer", default=None, help=_("conv layer for the layer methods (default: the last)"))
    p.add_argument("--target", default="predicted", help=_("the class to explain: 'predicted' or a class index"))
    p.add_argument("--steps", type=int, default=FAITHFULNESS_STEPS,
                   help=_("deletion and insertion steps, at least 2 (default {steps})", steps=FAITHFULNESS_STEPS))
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=_metrics)
    return parser


def _summary(args: argparse.Namespace) -> int:
    from .architecture import tables
    from .architecture.layers import layer_table

    rows = layer_table(args.config, args.input_size)
    if args.format == "json":
        print(tables.to_json(args.config.name, rows))
    elif args.format == "csv":
        sys.stdout.write(tables.to_csv(rows))
    else:
        h, w = args.input_size
        print(f"{args.config.label}, input {h}×{w}")
        print(tables.to_text(rows))
    return 0


def _error(message: str) -> None:
    print(f"vggviz: {message}", file=sys.stderr)


def _load(args: argparse.Namespace):
    """The model the arguments ask for, or None after printing one line."""
    from .photo.checkpoints import CheckpointError
    from .photo.inference import load_model
    from .photo.weights import WeightsError

    try:
        if args.weights in ("imagenet", "random"):
            lm = load_model(args.config, args.weights, device=args.device, half=args.half)
        else:
            lm = load_model(args.config, "checkpoint", checkpoint=Path(args.weights), classes=args.classes,
                            device=args.device, half=args.half)
    except (WeightsError, CheckpointError, OSError) as exc:
        hint = " (python -m vggviz download CONFIG fetches it)" if args.weights == "imagenet" else ""
        _error(f"{exc}{hint}")
        return None
    for notice in lm.notices:
        _error(notice)
    return lm


def _predict(args: argparse.Namespace) -> int:
    from .photo.images import ImageError, load_image
    from .photo.inference import run

    lm = _load(args)
    if lm is None:
        return 2
    if not lm.trained:
        _error("untrained weights: these predictions mean nothing")
    results, status = [], 0
    for path in args.images:
        try:
            result = run(lm, load_image(path), args.preprocess, features=False)
        except ImageError as exc:
            _error(str(exc))
            status = 2
            continue
        top = result.top(lm.classes, args.topk)
        results.append({"image": path, "config": lm.config.name, "weights": lm.weights,
                        "device": str(lm.device), "top": top})
        if args.format == "text":
            print(f"{path}: {lm.describe()}")
            for t in top:
                print(f"  {t['prob']:7.2%}  {t['label']} ({t['index']})")
    if args.format == "json":
        print(json.dumps(results, indent=2))
    return status


def _load_and_run(args: argparse.Namespace):
    """The model and one forward pass over ``args.image``, or (None, None) after printing one line."""
    from .photo.images import ImageError, load_image
    from .photo.inference import run

    lm = _load(args)
    if lm is None:
        return None, None
    try:
        return lm, run(lm, load_image(args.image), args.preprocess)
    except ImageError as exc:
        _error(str(exc))
        return None, None


def _features(args: argparse.Namespace) -> int:
    from .photo.render import tile

    lm, result = _load_and_run(args)
    if result is None:
        return 2
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, maps in result.features.items():
            tile(maps, relu=args.relu).save(out / f"{name}.png")
    except OSError as exc:
        _error(f"cannot write to {out} ({exc.strerror or exc})")
        return 2
    print(f"{len(result.features)} grids written to {out}")
    return 0


def _attribute(args: argparse.Namespace) -> int:
    import numpy as np
    from PIL import Image

    from .explain import attribution_view as view
    from .explain.attributions import attributor
    from .photo.inference import input_tensor, model_view

    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".npy"):
        _error(f"--out must end in .png or .npy, not {out.name!r}")
        return 2
    explained = _photo_target_layer(args)
    if explained is None:
        return 2
    lm, result, target, layer = explained
    try:
        params = _attribution_params(args.method, target, layer, args.aug_smooth, args.eigen_smooth, steps=args.steps)
        attr = attributor(lm).attribute(input_tensor(lm, result), params)
    except ValueError as exc:  # bad settings, or a layer where the method cannot run
        _error(str(exc))
        return 2
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix.lower() == ".npy":
            np.save(out, attr)
        else:
            sign = "positive" if args.method == "gradcam" or args.method in _CAM_METHODS else "absolute_value"
            Image.fromarray(view.draw(attr, model_view(result), sign=sign)).save(out)
    except OSError as exc:
        _error(f"cannot write {out} ({exc.strerror or exc})")
        return 2
    print(f"{_ALL_METHODS[args.method]} for {lm.classes[target]} ({target}): {out}")
    return 0


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _download(args: argparse.Namespace) -> int:
    from .photo import weights as wts

    status = 0
    for config in args.configs:
        try:
            w = wts.imagenet_weights(config)
            dest = wts.cached_path(w)
            if dest.is_file():
                print(f"{config.name}: {dest} is already there")
                continue
            print(f"{config.name}: {wts.url_for(w)} -> {dest} ({wts.size_mb(w):.0f} MB)")
            wts.download(w, progress=_progress_bar)
            print()
        except wts.WeightsError as exc:
            print(file=sys.stderr)
            _error(str(exc))
            status = 2
    return status


def _progress_bar(p) -> None:
    width = 30
    filled = int(width * (p.fraction or 0))
    sys.stderr.write(f"\r  [{'#' * filled}{'.' * (width - filled)}] {p.text()}   ")
    sys.stderr.flush()


# --- the CAM family and faithfulness metrics --------------------------------------------------------

def _cam_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--aug-smooth", action="store_true",
                   help=_("CAM family: average the map over flips and brightness changes (six passes)"))
    p.add_argument("--eigen-smooth", action="store_true",
                   help=_("CAM family: first principal component instead of the channel sum"))


def _photo_target_layer(args: argparse.Namespace):
    """The model, its forward pass over ``args.image``, the target class and the conv layer the arguments ask
    for, or None after printing one line."""
    import numpy as np

    lm, result = _load_and_run(args)
    if result is None:
        return None
    layers = list(result.features)
    target = int(np.argmax(result.probs)) if args.target == "predicted" else _int(args.target)
    if target is None or not 0 <= target < len(lm.classes):
        _error(f"--target must be 'predicted' or a class index 0…{len(lm.classes) - 1}, not {args.target!r}")
        return None
    if args.layer is not None and args.layer not in layers:
        _error(f"--layer must be a conv layer of {lm.config.name}: {', '.join(layers)}")
        return None
    return lm, result, target, args.layer or layers[-1]


def _attribution_params(method: str, target: int, layer: str, aug_smooth: bool = False, eigen_smooth: bool = False,
                        **captum):
    """captum's Params or grad-cam's CamParams for ``method``; ValueError (translated) for bad settings."""
    from .explain.attributions import Params
    from .explain.cams import CamError, CamParams

    if method in _CAM_METHODS:
        return CamParams(method, target, layer=layer, aug_smooth=aug_smooth, eigen_smooth=eigen_smooth)
    if aug_smooth or eigen_smooth:
        raise CamError("smoothing", method=_ALL_METHODS[method], choices=", ".join(_CAM_METHODS))
    return Params(method, target, layer=layer, **captum)


def _metrics(args: argparse.Namespace) -> int:
    from .explain import faithfulness
    from .explain.attributions import attributor
    from .photo.inference import input_tensor

    if args.steps < 2:
        _error(str(faithfulness.MetricsError("steps", steps=args.steps)))
        return 2
    explained = _photo_target_layer(args)
    if explained is None:
        return 2
    lm, result, target, layer = explained
    x, att = input_tensor(lm, result), attributor(lm)
    try:
        attr = att.attribute(x, _attribution_params(args.method, target, layer))
        scores = faithfulness.evaluate(att, x, result.preprocess, attr, target, steps=args.steps)
    except ValueError as exc:
        _error(str(exc))
        return 2
    report = faithfulness.report(args.method, target, args.steps, scores)
    if args.format == "json":
        print(json.dumps(report, indent=2))
        return 0
    print(_("{method} for {label} ({target}), {steps} steps", method=_(_ALL_METHODS[args.method]),
            label=lm.classes[target], target=target, steps=args.steps))
    for key, label in faithfulness.LABELS.items():
        others = ", ".join(f"{_(faithfulness.COLUMNS[b])} {_number(report['baselines'][b][key])}"
                           for b in faithfulness.BASELINES)
        print(f"  {_(label)}: {_number(report[key])}  ({others})")
    return 0


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
