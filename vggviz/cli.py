"""``python -m vggviz``: the engine from a terminal. Errors are one line on stderr and exit status 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import configs


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
    return parser


def _summary(args: argparse.Namespace) -> int:
    from . import tables
    from .layers import layer_table

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


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
