"""``python -m vggviz``: the engine from a terminal. Errors are one line on stderr and exit status 2."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from .architecture import configs
from .explain.methods import METHODS as _METHODS



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

    p = sub.add_parser("attribute", parents=[model_args], help="a captum attribution map for a photo")
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--method", required=True, choices=list(_METHODS))
    p.add_argument("--layer", default=None, help="conv layer for gradcam / guided_gradcam (default: the last)")
    p.add_argument("--target", default="predicted", help="'predicted' or a class index")
    p.add_argument("--steps", type=int, default=32, help="integrated gradients steps")
    p.add_argument("--out", required=True, metavar="FILE.png|FILE.npy")
    p.set_defaults(func=_attribute)

    p = sub.add_parser("download", help="fetch ImageNet weights into torch hub's cache")
    p.add_argument("configs", nargs="+", type=_config, metavar="CONFIG")
    p.set_defaults(func=_download)

    _erf_and_unit_parsers(sub, model_args)  # issue 12
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
    from .explain.attributions import Params, attributor
    from .photo.inference import input_tensor, model_view

    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".npy"):
        _error(f"--out must end in .png or .npy, not {out.name!r}")
        return 2
    lm, result = _load_and_run(args)
    if result is None:
        return 2
    layers = list(result.features)
    target = int(np.argmax(result.probs)) if args.target == "predicted" else _int(args.target)
    if target is None or not 0 <= target < len(lm.classes):
        _error(f"--target must be 'predicted' or a class index 0…{len(lm.classes) - 1}, not {args.target!r}")
        return 2
    if args.layer is not None and args.layer not in layers:
        _error(f"--layer must be a conv layer of {lm.config.name}: {', '.join(layers)}")
        return 2
    try:
        params = Params(args.method, target, layer=args.layer or layers[-1], steps=args.steps)
    except ValueError as exc:
        _error(str(exc))
        return 2
    attr = attributor(lm).attribute(input_tensor(lm, result), params)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix.lower() == ".npy":
            np.save(out, attr)
        else:
            sign = "positive" if args.method == "gradcam" else "absolute_value"
            Image.fromarray(view.draw(attr, model_view(result), sign=sign)).save(out)
    except OSError as exc:
        _error(f"cannot write {out} ({exc.strerror or exc})")
        return 2
    print(f"{_METHODS[args.method]} for {lm.classes[target]} ({target}): {out}")
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


# --- effective receptive field and one unit's computation (issue 12) ---

DEFAULT_SAMPLES = 8  # noise inputs when neither --image nor --samples is given (REFERENCE.md §7 used 8)


def _erf_and_unit_parsers(sub, model_args: argparse.ArgumentParser) -> None:
    from .i18n import _

    p = sub.add_parser("erf", help=_("the effective receptive field of one unit of a conv layer"))
    p.add_argument("config", type=_config, metavar="CONFIG",
                   help=_("the configuration: {names}, or a torchvision name ({aliases})",
                          names=", ".join(configs.NAMES), aliases=", ".join(configs.ALIASES)))
    p.add_argument("--layer", required=True, help=_("a conv layer, e.g. conv3_3 (taken after its ReLU)"))
    inputs = p.add_mutually_exclusive_group()
    inputs.add_argument("--image", metavar="IMAGE", help=_("a photo, preprocessed as the weights expect"))
    inputs.add_argument("--samples", type=int, metavar="N",
                        help=_("N Gaussian-noise inputs (the default, N = {n})", n=DEFAULT_SAMPLES))
    p.add_argument("--unit", type=int, nargs=2, metavar=("ROW", "COL"), help=_("default: the centre unit"))
    p.add_argument("--weights", default="imagenet", metavar="imagenet|random|PATH",
                   help=_("the weights of the ERF: imagenet (torch hub's cache), random (untrained) or a checkpoint"))
    p.add_argument("--seed", type=int, default=0, help=_("seed of the noise inputs (default 0)"))
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto")
    p.add_argument("--out", metavar="erf.npy", help=_("write the map (H×W, the mean over the inputs) here"))
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=_erf, classes=None, preprocess=None, half=False)

    p = sub.add_parser("unit", parents=[model_args], help=_("the arithmetic behind one unit of a conv layer"))
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--layer", required=True, help=_("a conv layer, e.g. conv1_1"))
    p.add_argument("--channel", type=int, required=True, metavar="K", help=_("the output channel"))
    p.add_argument("--at", type=int, nargs=2, required=True, metavar=("ROW", "COL"),
                   help=_("the unit's row and column on the map"))
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=_unit)


def _erf(args: argparse.Namespace) -> int:
    import numpy as np

    from .explain import erf
    from .explain.picking import PickError
    from .i18n import _
    from .photo.images import ImageError, load_image
    from .photo.inference import prepare

    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() != ".npy":
        _error(_("--out must end in .npy, not {name!r}", name=out.name))
        return 2
    lm = _load(args)
    if lm is None:
        return 2
    try:
        if args.image is not None:
            inputs = prepare(load_image(args.image), lm.preprocess).unsqueeze(0)
        else:
            size = (configs.DEFAULT_INPUT,) * 2  # what the preprocessing makes of a photo
            samples = DEFAULT_SAMPLES if args.samples is None else args.samples
            inputs = erf.noise(samples, size, seed=args.seed)
        found = erf.measure(lm, inputs, args.layer, args.unit)
    except (ImageError, PickError) as exc:
        _error(str(exc))
        return 2
    if out is not None:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            np.save(out, found.map)
        except OSError as exc:
            _error(_("cannot save the map to {path} ({why})", path=out, why=exc.strerror or exc))
            return 2
    if args.format == "json":
        print(json.dumps(found.record(), indent=2))
        return 0
    source = (_("the photo {name}", name=args.image) if args.image is not None
              else _("noise inputs: {n} (seed {seed})", n=found.samples, seed=args.seed))
    (h, w), (row, col), box = found.input_size, found.unit, found.box
    print(_("{layer} of {model}, unit ({row}, {col}), input {h}×{w}, {source}",
            layer=found.layer, model=lm.describe(), row=row, col=col, h=h, w=w, source=source))
    print(_("theoretical receptive field: r = {r} px, rows {top}…{bottom}, columns {left}…{right}",
            r=found.rf, top=box.top, bottom=box.bottom, left=box.left, right=box.right))
    if found.area_ratio is None:
        print(_("this unit is inactive for every input (its ReLU gives 0): no gradient reaches the input"))
    else:
        print(_("effective receptive field, side of the smallest centred square holding:"))
        for fraction, side in found.mass_sides.items():
            print(_("  {p:.0%} of the mass: {side:.1f} px", p=fraction, side=side))
        print(_("ERF area / RF area ({p:.0%} square over r²): {ratio:.3f}", p=erf.AREA_FRACTION,
                ratio=found.area_ratio))
    if out is not None:
        print(_("map written to {path}", path=out))
    return 0


def _grid(a) -> str:
    import numpy as np

    return np.array2string(a, precision=3, floatmode="fixed", suppress_small=True, separator=" ",
                           max_line_width=10_000).replace("\n", "")


def _unit(args: argparse.Namespace) -> int:
    from .explain import unit as units
    from .explain.picking import PickError
    from .i18n import _

    lm, result = _load_and_run(args)
    if result is None:
        return 2
    try:
        u = units.conv_unit(lm, result, args.layer, args.channel, args.at)
    except PickError as exc:
        _error(str(exc))
        return 2
    if args.format == "json":
        print(json.dumps(u.record(), indent=2))
        return 0
    box = u.rf_box
    print(_("{layer}, channel {channel}, unit ({row}, {col}) of {model}, photo {name}", layer=u.layer,
            channel=u.channel, row=u.at[0], col=u.at[1], model=lm.describe(), name=args.image))
    print(_("receptive field: rows {top}…{bottom}, columns {left}…{right}", top=box.top, bottom=box.bottom,
            left=box.left, right=box.right))
    if u.first:
        for c, colour in enumerate(units.RGB):
            print(_("{colour}: patch {patch} · kernel {kernel} · sum of products {value:.4g}",
                    colour=_(colour), patch=_grid(u.patch[c]), kernel=_grid(u.kernel[c]), value=u.contributions[c]))
    print(_("bias {bias:.4g} + Σ {n} input-channel contributions {total:.4g} = pre-activation {pre:.4g}",
            bias=u.bias, n=len(u.contributions), total=u.contributions.sum(), pre=u.pre))
    if u.batch_norm is not None:
        bn = u.batch_norm
        print(_("batch norm: ({pre:.4g} − {mean:.4g}) / √({var:.4g} + {eps:g}) × {weight:.4g} + {bias:.4g} "
                "= {value:.4g}",
                pre=u.pre, mean=bn.mean, var=bn.var, eps=bn.eps, weight=bn.weight, bias=bn.bias, value=bn.value))
    print(_("ReLU: {post:.4g} (the value on the map after ReLU)", post=u.post))
    print(_("largest contributions:"))
    for i in u.order()[:10]:
        print(_("  input channel {c}: {value:+.4g}", c=int(i), value=u.contributions[i]))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
