"""``python -m vggviz``: the engine from a terminal. Errors are one line on stderr and exit status 2.

Every line a person reads follows ``--lang zh|en`` (default: the environment's ``LANGUAGE`` / ``LC_ALL`` /
``LANG``); JSON and CSV keys stay English. argparse's own usage messages stay as argparse makes them."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from . import i18n
from .architecture import configs
from .evaluate import default_workers
from .explain.methods import ALL_METHODS as _ALL_METHODS, CAM_METHODS as _CAM_METHODS, FAITHFULNESS_STEPS
from .i18n import Items, _, ngettext

PROG = "python -m vggviz"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming the allowed values, not the whole usage text."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, _("{prog}: error: {message}", prog=self.prog, message=message) + "\n")


def _config(value: str) -> configs.Config:
    try:
        return configs.resolve(value)
    except configs.UnknownConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _input_size(value: str) -> tuple[int, int]:
    try:
        return configs.parse_input_size(value)
    except configs.InputSizeError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _language_option(parser: argparse.ArgumentParser, default) -> None:
    parser.add_argument("--lang", choices=list(i18n.LANGUAGES), default=default,
                        help=_("language of the output: zh (中文) or en (English); default: from LANG"))


def build_parser() -> argparse.ArgumentParser:
    """The command line, its help texts in the current language (set it first: ``main`` does)."""
    parser = _Parser(prog=PROG, description=_("See inside VGG networks from the command line."))
    _language_option(parser, i18n.from_environment())
    language = _Parser(add_help=False)  # also accepted after the command, e.g. `summary D --lang zh`
    _language_option(language, argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser("summary", parents=[language], help=_("the layer table of a configuration"))
    p.add_argument("config", type=_config, metavar="CONFIG",
                   help=_("one of {names} or {aliases}", names=Items(configs.NAMES),
                          aliases=Items(configs.ALIASES)))
    p.add_argument("--input-size", type=_input_size, default=(configs.DEFAULT_INPUT,) * 2,
                   metavar="N|HxW", help=_("input size, N (square) or HxW, at least 32 (default 224)"))
    p.add_argument("--format", choices=("table", "json", "csv"), default="table",
                   help=_("a table to read, or JSON / CSV with English keys (default: table)"))
    p.set_defaults(func=_summary)

    model_args = _Parser(add_help=False)
    model_args.add_argument("--config", type=_config, default=configs.resolve("vgg16"), metavar="CONFIG",
                            help=_("configuration (default vgg16); ignored for a checkpoint, read from its keys"))
    model_args.add_argument("--weights", default="imagenet", metavar="imagenet|random|PATH",
                            help=_("ImageNet weights from torch hub's cache, untrained, or a checkpoint file"))
    model_args.add_argument("--classes", metavar="JSON", help=_("class_indices.json for a checkpoint"))
    model_args.add_argument("--preprocess", choices=("imagenet", "lecture"),
                            help=_("default: what the weights expect (lecture for lecture checkpoints)"))
    model_args.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto",
                            help=_("auto: CUDA, then Apple MPS, then the CPU"))
    model_args.add_argument("--half", action="store_true", help=_("half precision (GPU only)"))

    p = sub.add_parser("predict", parents=[model_args, language], help=_("top-k predictions for photos"))
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--topk", type=int, default=5, help=_("how many classes to list (default 5)"))
    _text_or_json(p)
    p.set_defaults(func=_predict)

    p = sub.add_parser("features", parents=[model_args, language], help=_("one PNG grid per conv layer"))
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--out", required=True, metavar="DIR", help=_("folder for the PNG files"))
    p.add_argument("--relu", action="store_true", help=_("maps after ReLU (default: before)"))
    p.set_defaults(func=_features)

    p = sub.add_parser("attribute", parents=[model_args, language],
                       help=_("an attribution map for a photo (captum or grad-cam)"))
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--method", required=True, choices=list(_ALL_METHODS),
                   help=str(Items(f"{key}: {_(name)}" for key, name in _ALL_METHODS.items())))
    p.add_argument("--layer", default=None,
                   help=_("conv layer for gradcam, guided_gradcam and the CAM family (default: the last)"))
    p.add_argument("--target", default="predicted", help=_("'predicted' or a class index"))
    p.add_argument("--steps", type=int, default=32, help=_("integrated gradients steps"))
    p.add_argument("--out", required=True, metavar="FILE.png|FILE.npy",
                   help=_("a picture (.png) or the raw attribution (.npy)"))
    _cam_options(p)
    p.set_defaults(func=_attribute)

    p = sub.add_parser("download", parents=[language], help=_("fetch ImageNet weights into torch hub's cache"))
    p.add_argument("configs", nargs="+", type=_config, metavar="CONFIG")
    p.set_defaults(func=_download)

    # evaluate: a trained VGG on a folder or zip of class folders (vggviz/evaluate)
    p = sub.add_parser("evaluate", parents=[model_args, language],
                       help=_("accuracy, per-class figures and confusion matrix on a folder or zip of class folders"))
    p.add_argument("path", metavar="PATH", help=_("a folder or .zip with one folder of photos per class"))
    p.add_argument("--batch-size", type=_at_least(1), default=16, metavar="N", help=_("photos per forward pass"))
    p.add_argument("--workers", type=_at_least(0), default=None, metavar="N",
                   help=_("processes that decode photos (default {n}; 0: decode in this process)",
                          n=default_workers()))
    p.add_argument("--format", choices=("text", "json", "csv"), default="text")
    p.add_argument("--out", metavar="FILE", help=_("write here instead of to the terminal"))
    p.set_defaults(func=_evaluate)
    p = sub.add_parser("metrics", parents=[model_args, language],
                       help=_("how faithful a method's map is (deletion, insertion, Average Drop, ROAD), beside a "
                              "random map and the photo's Sobel edges"))
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--method", required=True, choices=list(_ALL_METHODS),
                   help=str(Items(f"{key}: {_(name)}" for key, name in _ALL_METHODS.items())))
    p.add_argument("--layer", default=None, help=_("conv layer for the layer methods (default: the last)"))
    p.add_argument("--target", default="predicted", help=_("the class to explain: 'predicted' or a class index"))
    p.add_argument("--steps", type=int, default=FAITHFULNESS_STEPS,
                   help=_("deletion and insertion steps, at least 2 (default {steps})", steps=FAITHFULNESS_STEPS))
    _text_or_json(p)
    p.set_defaults(func=_metrics)
    _erf_and_unit_parsers(sub, model_args, language)  # issue 12
    _examples_parser(sub, model_args, language)  # issue 22
    _visualize_parser(sub, model_args, language)  # issue 22
    _train_parser(sub, language)  # issue 23
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
        print(_("{label}, input {h}×{w}", label=args.config.label, h=h, w=w))
        print(tables.to_text(rows))
    return 0


def _error(message: object) -> None:
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
    except WeightsError as exc:
        if args.weights == "imagenet" and exc.code == "missing":
            _error(_("{error} (python -m vggviz download {config} fetches it)", error=exc, config=args.config.name))
        else:
            _error(exc)
        return None
    except CheckpointError as exc:
        _error(exc)
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
        _error(_("untrained weights: these predictions mean nothing"))
    results, status = [], 0
    for path in args.images:
        try:
            result = run(lm, load_image(path), args.preprocess, features=False)
        except ImageError as exc:
            _error(exc)
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
        _error(exc)
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
        _error(_("cannot write to {path} ({reason})", path=out, reason=exc.strerror or exc))
        return 2
    print(_("{n} grids written to {path}", n=len(result.features), path=out))  # every VGG has 8 conv layers or more
    return 0


def _attribute(args: argparse.Namespace) -> int:
    import numpy as np
    from PIL import Image

    from .explain import attribution_view as view
    from .explain.attributions import explain
    from .photo.inference import model_view

    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".npy"):
        _error(_("--out must end in .png or .npy, not {name!r}", name=out.name))
        return 2
    explained = _photo_target_layer(args)
    if explained is None:
        return 2
    lm, result, target, layer = explained
    try:
        params = _attribution_params(args.method, target, layer, args.aug_smooth, args.eigen_smooth, steps=args.steps)
        attr = explain(lm, result, params)  # with the input's own preprocessing (--preprocess), baselines included
    except ValueError as exc:  # bad settings, or a layer where the method cannot run
        _error(exc)
        return 2
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix.lower() == ".npy":
            np.save(out, attr)
        else:
            sign = "positive" if args.method == "gradcam" or args.method in _CAM_METHODS else "absolute_value"
            Image.fromarray(view.draw(attr, model_view(result), sign=sign)).save(out)
    except OSError as exc:
        _error(_("cannot write {path} ({reason})", path=out, reason=exc.strerror or exc))
        return 2
    print(_("{method} for {label} ({target}): {path}", method=_(_ALL_METHODS[args.method]), label=lm.classes[target],
            target=target, path=out))
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
        bar = _ProgressBar()
        try:
            w = wts.imagenet_weights(config)
            dest = wts.cached_path(w)
            if dest.is_file():
                print(_("{config}: {path} is already there", config=config.name, path=dest))
                continue
            print(_("{config}: {url} -> {path} ({mb:.0f} MB)", config=config.name, url=wts.url_for(w), path=dest,
                    mb=wts.size_mb(w)))
            wts.download(w, progress=bar)
            bar.end()
        except wts.WeightsError as exc:
            bar.end()
            _error(exc)
            status = 2
    return status


class _ProgressBar:
    """A one-line progress bar on stderr, ended with a newline only if it was drawn."""

    width = 30

    def __init__(self) -> None:
        self.drawn = False

    def __call__(self, p) -> None:
        filled = int(self.width * (p.fraction or 0))
        sys.stderr.write(f"\r  [{'#' * filled}{'.' * (self.width - filled)}] {p.text()}   ")
        sys.stderr.flush()
        self.drawn = True

    def end(self) -> None:
        if self.drawn:
            print(file=sys.stderr)
            self.drawn = False


# --- evaluate ------------------------------------------------------------------------------------

def _text_or_json(p: argparse.ArgumentParser) -> None:
    """The ``--format`` most commands take: text for a person, JSON (English keys) for a script."""
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help=_("text to read, or JSON with English keys (default: text)"))


def _at_least(low: int):
    def parse(value: str) -> int:
        number = _int(value)
        if number is None or number < low:
            raise argparse.ArgumentTypeError(_("must be a whole number of at least {low}, not {value!r}",
                                               low=low, value=value))
        return number
    return parse


def _evaluate(args: argparse.Namespace) -> int:
    from .evaluate import archive, report
    from .evaluate.errors import EvaluationError
    from .evaluate.run import evaluate

    try:
        listing = archive.open_path(args.path)  # before the model: a wrong path fails fast
    except EvaluationError as exc:
        _error(str(exc))
        return 2
    lm = _load(args)
    if lm is None:
        return 2
    try:
        ev = evaluate(lm, listing, preprocess=args.preprocess, batch_size=args.batch_size, workers=args.workers,
                      progress=_evaluation_progress if sys.stderr.isatty() else None)
    except EvaluationError as exc:
        _error(str(exc))
        return 2
    except KeyboardInterrupt:
        _error(str(EvaluationError("cancelled")))
        return 130
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    out = {"json": report.to_json, "csv": report.to_csv}.get(args.format, lambda e: report.to_text(e, lm.describe()))(ev)
    if args.format == "csv":  # the CSV has one row per evaluated photo: say what was left out
        for skipped in ev.skipped:
            _error(str(skipped.reason))
    if args.out is None:
        sys.stdout.write(out)
        return 0
    try:
        Path(args.out).write_text(out, encoding="utf-8")
    except OSError as exc:
        _error(_("{out} could not be written ({reason})", out=args.out, reason=exc.strerror or exc))
        return 2
    return 0


def _evaluation_progress(p) -> None:
    left = "?" if p.seconds_left is None else f"{p.seconds_left:.0f}"
    sys.stderr.write("\r  " + _("{done} of {total} photos, {rate:.1f} photos/s, {left} s left",
                                 done=p.done, total=p.total, rate=p.images_per_s, left=left) + "   ")
    sys.stderr.flush()


# --- effective receptive field and one unit's computation (issue 12) ---

DEFAULT_SAMPLES = 8  # noise inputs when neither --image nor --samples is given (REFERENCE.md §7 used 8)


def _erf_and_unit_parsers(sub, model_args: argparse.ArgumentParser, language: argparse.ArgumentParser) -> None:
    p = sub.add_parser("erf", parents=[language], help=_("the effective receptive field of one unit of a conv layer"))
    p.add_argument("config", type=_config, metavar="CONFIG",
                   help=_("the configuration: {names}, or a torchvision name ({aliases})",
                          names=Items(configs.NAMES), aliases=Items(configs.ALIASES)))
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
    _text_or_json(p)
    p.set_defaults(func=_erf, classes=None, preprocess=None, half=False)

    p = sub.add_parser("unit", parents=[model_args, language], help=_("the arithmetic behind one unit of a conv layer"))
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--layer", required=True, help=_("a conv layer, e.g. conv1_1"))
    p.add_argument("--channel", type=int, required=True, metavar="K", help=_("the output channel"))
    p.add_argument("--at", type=int, nargs=2, required=True, metavar=("ROW", "COL"),
                   help=_("the unit's row and column on the map"))
    _text_or_json(p)
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
        _error(_("--target must be 'predicted' or a class index 0…{last}, not {value!r}",
                 last=len(lm.classes) - 1, value=args.target))
        return None
    if args.layer is not None and args.layer not in layers:
        _error(_("--layer must be a conv layer of {config}: {layers}", config=lm.config.name, layers=Items(layers)))
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
        raise CamError("smoothing", method=_(_ALL_METHODS[method]), choices=Items(_CAM_METHODS))
    return Params(method, target, layer=layer, **captum)


def _metrics(args: argparse.Namespace) -> int:
    from .explain import faithfulness
    from .explain.attributions import attributor, explain
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
        attr = explain(lm, result, _attribution_params(args.method, target, layer))
        scores = faithfulness.evaluate(att, x, result.preprocess, attr, target, steps=args.steps)
    except ValueError as exc:
        _error(exc)
        return 2
    report = faithfulness.report(args.method, target, args.steps, scores)
    if args.format == "json":
        print(json.dumps(report, indent=2))
        return 0
    print(_("{method} for {label} ({target}), {steps} steps", method=_(_ALL_METHODS[args.method]),
            label=lm.classes[target], target=target, steps=args.steps))
    for key, label in faithfulness.LABELS.items():
        others = Items(f"{_(faithfulness.COLUMNS[b])} {_number(report['baselines'][b][key])}"
                       for b in faithfulness.BASELINES)
        print("  " + _("{label}: {value}  ({others})", label=_(label), value=_number(report[key]), others=others))
    return 0


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"

# --- dataset examples (issue 22) ------------------------------------------------------------------

def _examples_parser(sub, model_args: argparse.ArgumentParser, language: argparse.ArgumentParser) -> None:
    from .learned.examples import TOP

    p = sub.add_parser("examples", parents=[model_args, language],
                       help=_("dataset examples: the photos of a collection that excite each channel most"))
    p.add_argument("path", metavar="PATH",
                   help=_("a folder or .zip of photos (any layout), or 'samples' for the bundled photos"))
    p.add_argument("--layers", default="all", metavar="conv3_3,conv5_3|all",
                   help=_("the conv layers to score, separated by commas (default: all; one pass scores them all)"))
    p.add_argument("--top", type=_at_least(1), default=TOP, metavar="K",
                   help=_("examples per channel: the K most exciting (also kept: the K least exciting and K "
                          "random photos; default {k})", k=TOP))
    p.add_argument("--input-size", type=_at_least(configs.MIN_INPUT), default=configs.DEFAULT_INPUT, metavar="N",
                   help=_("the photos are preprocessed to N×N (default {n})", n=configs.DEFAULT_INPUT))
    p.add_argument("--batch-size", type=_at_least(1), default=16, metavar="N", help=_("photos per forward pass"))
    p.add_argument("--workers", type=_at_least(0), default=None, metavar="N",
                   help=_("processes that decode photos (default {n}; 0: decode in this process)",
                          n=default_workers()))
    p.add_argument("--out", metavar="DIR",
                   help=_("write each channel's top patches here (LAYER/CHANNEL_RANK.png) and index.json"))
    _text_or_json(p)
    p.set_defaults(func=_examples)


def _identified(args: argparse.Namespace, lm):
    """``lm`` with the digest the app gives the same weights, so that the app finds what this command caches."""
    from .photo import model_identity as identity, weights as wts

    if args.weights == "random":
        digest = identity.UNTRAINED
    elif args.weights == "imagenet":  # load_model checked the file against the hash in its name
        digest = identity.of_imagenet_file(wts.cached_path(wts.imagenet_weights(lm.config)), verified=True)
    else:
        digest = identity.with_classes(identity.of_file(Path(args.weights)),
                                       identity.of_file(Path(args.classes)) if args.classes else None)
    return identity.identify(lm, digest)


class _LineProgress:
    """Progress on stderr: redrawn in place on a terminal, else a line every tenth of the way."""

    def __init__(self) -> None:
        self.tty, self.shown = sys.stderr.isatty(), -1

    def __call__(self, p) -> None:
        left = "?" if p.seconds_left is None else f"{p.seconds_left:.0f}"
        line = _("{done} of {total} photos, {rate:.1f} photos/s, {left} s left", done=p.done, total=p.total,
                 rate=p.images_per_s, left=left)
        if self.tty:
            sys.stderr.write(f"\r  {line}   ")
        elif int(10 * p.fraction) > self.shown:
            self.shown = int(10 * p.fraction)
            sys.stderr.write(f"  {line}\n")
        sys.stderr.flush()

    def end(self) -> None:
        if self.tty:
            sys.stderr.write("\n")


def _examples(args: argparse.Namespace) -> int:
    from .evaluate.errors import EvaluationError
    from .i18n import TranslatableError
    from .learned import collection as collections, examples as ex, patches, store

    try:
        coll = collections.open_collection(args.path)  # before the model: a wrong path fails fast
    except EvaluationError as exc:
        _error(exc)
        return 2
    lm = _load(args)
    if lm is None:
        return 2
    lm = _identified(args, lm)
    settings = ex.Settings(preprocess=args.preprocess, size=args.input_size, top=args.top, bottom=args.top,
                           random=args.top)
    layers = None if args.layers.strip() == "all" else [name.strip() for name in args.layers.split(",") if name.strip()]
    bar = _LineProgress() if args.format == "text" else None
    try:
        layers = ex.check_layers(lm, layers)
        found = ex.compute(lm, coll, settings, layers, batch_size=args.batch_size, workers=args.workers, progress=bar)
    except TranslatableError as exc:  # an unknown layer, no photos, K out of range
        _error(exc)
        return 2
    except KeyboardInterrupt:
        _error(ex.ExamplesError("cancelled"))
        return 130
    except OSError as exc:
        _error(_("cannot write to {path} ({reason})", path=store.root(), reason=exc.strerror or exc))
        return 2
    finally:
        if bar is not None:
            bar.end()
    record = found.record(layers)
    if args.out is not None:
        out = Path(args.out)
        try:
            for layer in layers:
                for channel in range(found.channels(layer)):
                    for rank, example in enumerate(found.top(layer, channel)):
                        path = out / layer / f"{channel:03d}_{rank}.png"
                        path.parent.mkdir(parents=True, exist_ok=True)
                        patches.patch(found, example).save(path)
            store.write_json(out / "index.json", record)
        except OSError as exc:
            _error(_("cannot write to {path} ({reason})", path=out, reason=exc.strerror or exc))
            return 2
    for skipped in found.skipped:
        _error(skipped.reason)
    if args.format == "json":
        print(json.dumps(record, indent=1, ensure_ascii=False))
        return 0
    meta = found.meta
    print(_("{model}: dataset examples of {channels} channels ({layers}) from {scored} photos of {name}",
            model=lm.describe(), channels=sum(found.channels(layer) for layer in layers), layers=", ".join(layers),
            scored=meta["collection"]["scored"], name=meta["collection"]["name"]))
    for layer in layers:
        best = max(range(found.channels(layer)), key=lambda c: found.top(layer, c)[0].value)
        top = found.top(layer, best)[0]
        print(_("  {layer}: strongest channel {channel}, {value:.4g} on {photo}", layer=layer, channel=best,
                value=top.value, photo=top.photo))
    if args.out is not None:
        print(_("patches and index.json written to {path}", path=args.out))
    print(_("saved in the gallery: {path}", path=found.folder))
    return 0


# --- visualize: feature visualisation, class models, a layer's gallery (issue 22) ---------------------

def _channel_list(value: str) -> list[int]:
    """``0-63``, ``3,5,9`` or ``0-7,12``: the channels, in order, each once."""
    out: list[int] = []
    try:
        for part in value.split(","):
            low, _, high = part.strip().partition("-")
            first, last = int(low), int(high) if high else int(low)
            if first < 0 or last < first:
                raise ValueError
            out += range(first, last + 1)
    except ValueError:
        from .learned.network import VisualizeError

        raise argparse.ArgumentTypeError(str(VisualizeError("channels", value=value))) from None
    return list(dict.fromkeys(out))


def _upsample(value: str) -> int | None:
    return None if value.lower() == "none" else _at_least(16)(value)


def _visualize_parser(sub, model_args: argparse.ArgumentParser, language: argparse.ArgumentParser) -> None:
    from .learned.class_model import METHODS, SimonyanSettings
    from .learned.layer_gallery import BATCH
    from .learned.visualize import UNITS, Settings

    d = Settings()
    p = sub.add_parser("visualize", parents=[model_args, language],
                       help=_("feature visualisation of a channel, a layer's gallery, or a class model"))
    p.add_argument("model", nargs="?", type=_config, metavar="CONFIG",
                   help=_("configuration (the same as --config)"))
    p.add_argument("--layer", help=_("a conv layer, e.g. conv3_3"))
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--channel", type=_at_least(0), metavar="K", help=_("the channel to visualise"))
    target.add_argument("--channels", type=_channel_list, metavar="0-63",
                        help=_("several channels (a range or a list): a gallery, written to the gallery folder"))
    target.add_argument("--class", dest="target_class", metavar="C",
                        help=_("a class (its index or name): class model visualisation"))
    p.add_argument("--method", choices=METHODS, default="simonyan",
                   help=_("class model: Simonyan et al.'s L2-regularised gradient ascent, or the Fourier image "
                          "with transforms (default: simonyan)"))
    p.add_argument("--steps", type=_at_least(1), metavar="N",
                   help=_("optimisation steps (default {steps}; class model: {class_steps})", steps=d.steps,
                          class_steps=SimonyanSettings().steps))
    p.add_argument("--size", type=_at_least(16), metavar="PX",
                   help=_("the image's side in pixels (default {size}; class model: {class_size})", size=d.size,
                          class_size=SimonyanSettings().size))
    p.add_argument("--seed", type=_at_least(0), default=0, help=_("seed of the starting image and the transforms"))
    p.add_argument("--objective", choices=UNITS, default="mean",
                   help=_("the channel's mean over positions, or its centre unit (default: mean)"))
    p.add_argument("--negative", action="store_true", help=_("minimise the channel instead"))
    p.add_argument("--diversity", action="store_true",
                   help=_("4 images per channel pushed apart (Olah et al.'s diversity term)"))
    p.add_argument("--upsample", type=_upsample, default=d.upsample, metavar="PX|none",
                   help=_("images smaller than this are upsampled to it before the model (default {px})",
                          px=d.upsample))
    p.add_argument("--batch", type=_at_least(1), default=BATCH, metavar="N",
                   help=_("channels optimised together (default {n})", n=BATCH))
    p.add_argument("--no-cache", action="store_true", help=_("neither read nor write the gallery folder"))
    p.add_argument("--out", metavar="FILE.png|DIR",
                   help=_("the picture (a channel, a class), or the gallery folder to write (--channels)"))
    _text_or_json(p)
    p.set_defaults(func=_visualize)


class _StepBar:
    """Steps on stderr, one line redrawn."""

    def __init__(self, what: str) -> None:
        self.what, self.drawn = what, False

    def __call__(self, p) -> None:
        sys.stderr.write("\r  " + _("{what}: step {step} of {total}, objective {value:.4g}", what=self.what,
                                     step=p.step, total=p.total, value=p.value) + "   ")
        sys.stderr.flush()
        self.drawn = True

    def end(self) -> None:
        if self.drawn:
            sys.stderr.write("\n")
            self.drawn = False


def _visualize(args: argparse.Namespace) -> int:
    import numpy as np
    from PIL import Image

    from .learned import class_model as cm, layer_gallery, visualize as vis
    from .learned.network import VisualizeError, check_layer
    from .photo.inference import ModelError

    if args.model is not None:
        args.config = args.model
    if args.target_class is None and args.layer is None:
        _error(_("--layer is needed with --channel and --channels"))
        return 2
    out = Path(args.out) if args.out else None
    if out is not None and args.channels is None and out.suffix.lower() != ".png":
        _error(_("--out must end in .png, not {name!r}", name=out.name))
        return 2
    if args.channels is not None and not args.no_cache:
        with _gallery_folder(out):
            unwritable = _unwritable_gallery()
        if unwritable is not None:
            _error(unwritable)
            return 2
    lm = _load(args)
    if lm is None:
        return 2
    try:
        lm = _identified(args, lm)
    except OSError as exc:
        _error(_("cannot read {path} ({reason})", path=args.weights, reason=exc.strerror or exc))
        return 2
    text = args.format == "text"
    try:
        if args.target_class is not None:
            if args.method == "simonyan":
                settings = cm.SimonyanSettings(**_given(args, ("steps", "size")), preprocess=args.preprocess)
            else:
                settings = vis.Settings(**{"size": 224, **_given(args, ("steps", "size"))}, upsample=args.upsample,
                                        preprocess=args.preprocess)
            index = cm.find_class(lm, args.target_class)
            bar = _StepBar(lm.classes[index])
            result = cm.class_model(lm, index, args.method, settings, args.seed, progress=bar if text else None,
                                    cache=not args.no_cache)
            bar.end()
            records, pictures = [result.record()], [result.image]
        else:
            check_layer(lm, args.layer)
            kw = dict(**_given(args, ("steps", "size")), upsample=args.upsample, unit=args.objective,
                      negative=args.negative, preprocess=args.preprocess)
            settings = vis.Settings.diverse(**kw) if args.diversity else vis.Settings(**kw)
            channels = [args.channel] if args.channels is None else args.channels
            bar = _StepBar(args.layer)
            if args.channels is None:
                found = vis.visualize(lm, args.layer, channels, settings, args.seed, progress=bar if text else None,
                                      cache=not args.no_cache)
            else:
                with _gallery_folder(out):
                    found = layer_gallery.compute(lm, args.layer, channels, settings, args.seed, batch=args.batch,
                                                  progress=bar if text else None, cache=not args.no_cache)
            bar.end()
            records = [v.record() for v in found]
            pictures = [np.concatenate(list(v.images), axis=1) for v in found]  # a channel's images side by side
    except (VisualizeError, ModelError) as exc:
        _error(exc)
        return 2
    except OSError as exc:  # the gallery folder filled up or went away during the run
        _error(_("cannot write to {path} ({reason})", path=out or exc.filename, reason=exc.strerror or exc))
        return 2
    except KeyboardInterrupt:
        _error(VisualizeError("cancelled"))
        return 130
    written = None
    try:
        if args.channels is not None:
            with _gallery_folder(out):
                written = _write_grid(lm, args, settings, pictures)
        elif out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(pictures[0]).save(out)
            written = out
    except OSError as exc:
        _error(_("cannot write to {path} ({reason})", path=out, reason=exc.strerror or exc))
        return 2
    if args.format == "json":
        print(json.dumps(records[0] if args.channels is None else {"layer": args.layer, "channels": records,
                                                                   "grid": None if written is None else str(written)}, indent=2))
        return 0
    for r in records:
        what = (_("class {index} ({name}), {method}", index=r["class"], name=r["name"], method=r["method"])
                if "class" in r else _("{layer} channel {channel}", layer=r["layer"], channel=r["channel"]))
        print(_("{what} of {model}: objective {start:.4g} → {end:.4g} ({steps} steps, {size} px, seed {seed}, "
                "{seconds:.1f} s)", what=what, model=lm.describe(), start=r["start"], end=r["end"],
                steps=r["settings"]["steps"], size=r["settings"]["size"], seed=r["seed"], seconds=r["seconds"]))
    if written is not None:
        print(_("written to {path}", path=written))
    return 0


class _gallery_folder:  # noqa: N801  (used as a ``with`` block, like a function)
    """``folder`` as the gallery folder inside the block (--out DIR with --channels), put back after it."""

    def __init__(self, folder: Path | None) -> None:
        self.folder, self.before = folder, None

    def __enter__(self) -> None:
        import os

        from .learned import store

        if self.folder is not None:
            self.before = os.environ.get(store.ENV)
            os.environ[store.ENV] = str(self.folder)

    def __exit__(self, *exc) -> None:
        import os

        from .learned import store

        if self.folder is not None:
            if self.before is None:
                os.environ.pop(store.ENV, None)
            else:
                os.environ[store.ENV] = self.before


def _unwritable_gallery() -> str | None:
    """Why the gallery folder cannot be written (a gallery run's whole point), or None when it can."""
    import tempfile

    from .learned import store

    root = store.root()
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=root):
            pass
    except OSError as exc:
        return _("cannot write to {path} ({reason})", path=root, reason=exc.strerror or exc)
    return None


def _given(args: argparse.Namespace, names: tuple[str, ...]) -> dict:
    return {n: getattr(args, n) for n in names if getattr(args, n) is not None}


def _write_grid(lm, args: argparse.Namespace, settings, pictures) -> Path | None:
    """The gallery's grid picture, beside its entries (when there is a gallery folder for this model)."""
    import io

    from PIL import Image

    from .learned import layer_gallery, store
    from .learned.visualize import entry_folder

    where = None if args.no_cache else entry_folder(lm, args.layer, settings)
    if where is None:
        return None
    path = where / f"grid-s{args.seed}.png"
    buf = io.BytesIO()
    Image.fromarray(layer_gallery.grid(pictures)).save(buf, "PNG")
    return store.write_bytes(path, buf.getvalue())


# --- train: a VGG on a folder or zip of class folders (issue 23) -------------------------------------

def _positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not number >= 0:
        raise argparse.ArgumentTypeError(_("must be a number of at least 0, not {value!r}", value=value))
    return number


def _train_parser(sub, language: argparse.ArgumentParser) -> None:
    from .train.recipe import INITS, OPTIMIZERS, PRESETS, SCHEDULES, TRAINS, Recipe

    defaults = Recipe()
    p = sub.add_parser("train", parents=[language],
                       help=_("train a VGG on a folder or .zip of class folders and save a checkpoint the app opens"))
    p.add_argument("path", metavar="PATH",
                   help=_("a folder or .zip with one folder of photos per class, or train/ and val/ folders of them"))
    p.add_argument("--preset", choices=list(PRESETS),
                   help=_("start from a preset: course (the course's first train.py: untrained, everything, Adam 1e-4) or "
                          "fine-tune (ImageNet weights, new head, SGD 0.01, cosine); the options below change it"))
    p.add_argument("--config", type=_config, metavar="CONFIG",
                   help=_("configuration (default {default})", default=defaults.config))
    p.add_argument("--init", choices=list(INITS),
                   help=_("ImageNet weights (from torch hub's cache) or untrained Xavier weights (default {default})",
                          default=defaults.init))
    p.add_argument("--train", choices=list(TRAINS),
                   help=_("what trains: the new head only, the last conv block and the head, or everything "
                          "(default {default})", default=defaults.train))
    p.add_argument("--epochs", type=_at_least(1), metavar="N", help=_("epochs (default {n})", n=defaults.epochs))
    p.add_argument("--batch", type=_at_least(1), metavar="B", help=_("photos per step (default {n})", n=defaults.batch))
    p.add_argument("--optimizer", choices=list(OPTIMIZERS), help=_("default {default}", default=defaults.optimizer))
    p.add_argument("--lr", type=_positive_float, metavar="X",
                   help=_("learning rate (default: SGD 0.01; Adam 1e-3, or 1e-4 for everything from scratch)"))
    p.add_argument("--momentum", type=_positive_float, metavar="M", help=_("SGD momentum (default 0.9)"))
    p.add_argument("--weight-decay", type=_positive_float, metavar="W", help=_("weight decay (default 0)"))
    p.add_argument("--schedule", choices=list(SCHEDULES),
                   help=_("learning rate schedule (default {default})", default=defaults.schedule))
    p.add_argument("--final-lr", type=_positive_float, metavar="F", dest="final_lr_fraction",
                   help=_("cosine: the final learning rate as a fraction of the first (default {f:g})",
                          f=defaults.final_lr_fraction))
    p.add_argument("--size", type=_at_least(1), metavar="N",
                   help=_("input size N×N (default {n})", n=defaults.size))
    p.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                   help=_("the course's RandomResizedCrop and horizontal flip (default: on)"))
    p.add_argument("--views", type=_at_least(1), metavar="V",
                   help=_("head only: augmented views of each photo computed once and cached (default {n})",
                          n=defaults.views))
    p.add_argument("--val-share", type=_positive_float, metavar="F",
                   help=_("val share of each class when PATH has no train/ and val/ (default {f:g})",
                          f=defaults.val_share))
    p.add_argument("--seed", type=_at_least(0), metavar="S", help=_("random seed (default 0)"))
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto",
                   help=_("auto: CUDA, then Apple MPS, then the CPU"))
    p.add_argument("--workers", type=_at_least(0), default=0, metavar="N",
                   help=_("processes that decode photos (default 0: in this process)"))
    p.add_argument("--out", metavar="FILE.pth",
                   help=_("write the best epoch's checkpoint here, with FILE.json (class_indices) and FILE.train.json"))
    p.add_argument("--overwrite", action="store_true", help=_("replace an existing checkpoint of that name"))
    p.add_argument("--tensorboard", metavar="DIR",
                   help=_("also write TensorBoard event files here (needs the tensorboard package)"))
    _text_or_json(p)
    p.set_defaults(func=_train)


class _TrainProgress:
    """Training progress on stderr: one line redrawn on a terminal, else a line per epoch."""

    def __init__(self, epochs: int) -> None:
        self.tty, self.epochs, self.drawn = sys.stderr.isatty(), epochs, False

    def __call__(self, p) -> None:
        from .train.progress import EpochRecord

        if isinstance(p, EpochRecord):
            val = "—" if p.val_acc is None else f"{p.val_acc:.3f}"
            line = _("epoch {epoch} of {epochs}: train loss {loss:.3f}, train accuracy {acc:.3f}, val accuracy {val}, "
                     "{seconds:.1f} s", epoch=p.epoch, epochs=self.epochs, loss=p.train_loss, acc=p.train_acc, val=val,
                     seconds=p.seconds)
            sys.stderr.write(("\r" if self.tty else "") + f"  {line}" + (" " * 8 if self.tty else "") + "\n")
            self.drawn = False
        elif self.tty:
            left = "?" if p.seconds_left is None else f"{p.seconds_left:.0f}"
            what = {"features": _("caching frozen features"), "train": _("training"), "val": _("validating")}[p.phase]
            filled = int(20 * p.batch / max(p.batches, 1))
            sys.stderr.write(f"\r  [{'#' * filled}{'.' * (20 - filled)}] " + _(
                "epoch {epoch}, {what}: batch {batch} of {batches}, {rate:.1f} photos/s, {left} s left",
                epoch=p.epoch, what=what, batch=p.batch, batches=p.batches, rate=p.photos_per_s, left=left) + "   ")
            self.drawn = True
        sys.stderr.flush()

    def end(self) -> None:
        if self.drawn:
            sys.stderr.write("\n")
            self.drawn = False


def _train(args: argparse.Namespace) -> int:
    from .evaluate.errors import EvaluationError
    from .i18n import TranslatableError
    from .photo.weights import WeightsError
    from .train import recipe as recipes
    from .train.checkpoint import check_writable
    from .train.data import open_training_data
    from .train.run import tensorboard_available, tensorboard_notice, train

    fields = ("init", "train", "epochs", "batch", "optimizer", "lr", "momentum", "weight_decay", "schedule",
              "final_lr_fraction", "size", "augment", "views", "val_share", "seed")
    given = _given(args, fields)
    if args.config is not None:
        given["config"] = args.config.torchvision_name or args.config.name
    recipe = recipes.with_defaults(args.preset, **given)
    bar = _TrainProgress(recipe.epochs) if args.format == "text" else None
    try:
        recipes.check(recipe)
        if args.out:  # an existing or unwritable output: said before the photos are read
            check_writable(Path(args.out), args.overwrite)
        data = open_training_data(args.path, val_share=recipe.val_share, seed=recipe.seed)
        if args.format == "text":
            counts = data.counts()
            print(_("{name}: {classes}, {train}, {val} ({split})", name=data.name,
                    classes=ngettext("{n} class", "{n} classes", len(data.classes)),
                    train=ngettext("{n} training photo", "{n} training photos", sum(c[0] for c in counts)),
                    val=ngettext("{n} val photo", "{n} val photos", sum(c[1] for c in counts)),
                    split=_("train/ and val/ as given") if data.split == "folders" else
                    _("val split with seed {seed}", seed=recipe.seed)))
            for name, (n_train, n_val) in zip(data.classes, counts):
                print(_("  {name}: {train} training, {val} val", name=name, train=n_train, val=n_val))
        for warning in data.warnings:
            _error(warning)
        for note in recipes.advice(recipe):
            _error(note)
        if args.tensorboard and not tensorboard_available():
            _error(tensorboard_notice())
        result = train(data, recipe, Path(args.out) if args.out else None, report=bar or (lambda p: None),
                       device=args.device, overwrite=args.overwrite, workers=args.workers,
                       tensorboard=Path(args.tensorboard) if args.tensorboard else None)
    except WeightsError as exc:
        if bar is not None:
            bar.end()
        if exc.code == "missing":
            _error(_("{error} (python -m vggviz download {config} fetches it)", error=exc, config=recipe.config))
        else:
            _error(exc)
        return 2
    except (TranslatableError, EvaluationError) as exc:  # bad data, a recipe that cannot run, a full disk
        if bar is not None:
            bar.end()
        _error(exc)
        return 2
    except KeyboardInterrupt:
        if bar is not None:
            bar.end()
        from .train.errors import Cancelled

        _error(Cancelled())
        return 130
    if bar is not None:
        bar.end()
    if args.format == "json":
        print(json.dumps(result.record(), indent=1, ensure_ascii=False))
        return 0
    if result.best_val_acc is not None:
        print(_("best epoch {epoch}: val accuracy {acc:.3f}", epoch=result.best_epoch, acc=result.best_val_acc))
    print(_("checkpoint written to {path}", path=result.out) if result.out else
          _("no checkpoint written (give --out FILE.pth to save one)"))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # The language first (help texts are made in it), from --lang wherever it stands; argparse checks it below.
    early = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    early.add_argument("--lang")
    try:
        lang = early.parse_known_args(argv)[0].lang
    except argparse.ArgumentError:  # e.g. --lang without a value: the parser below says so
        lang = None
    i18n.set_language(lang or i18n.from_environment())
    args = build_parser().parse_args(argv)
    i18n.set_language(args.lang)
    return args.func(args)
