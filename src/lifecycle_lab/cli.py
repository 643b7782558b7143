"""One command-line entry point: `lifecycle-lab …` or `python -m lifecycle_lab …`.

Each area registers its own sub-commands (see COMMAND_MODULES) so this file stays a table of contents.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from lifecycle_lab.base.errors import UsageError

COMMAND_MODULES = [
    "lifecycle_lab.course.commands",
    "lifecycle_lab.course.lab",
    "lifecycle_lab.course.hub",
    "lifecycle_lab.course.interview",
    "lifecycle_lab.course.portfolio",
    "lifecycle_lab.course.site_commands",
    "lifecycle_lab.projects.p01_tickets.commands",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lifecycle-lab", description="Run and manage the Lifecycle Lab workbook.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except UsageError as err:
        print(f"lifecycle-lab {args.command}: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
