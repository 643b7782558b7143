"""Open JupyterLab on the learner copies, offline: the one place that knows the flags.

`make lab` and the workbook's Docker image both call `lifecycle-lab lab`, so a workshop room and a laptop
start JupyterLab the same way: rooted at notebooks/, the extension manager read-only (it would otherwise
query PyPI for extensions), and `--allow-root` only where we run as root (containers, CI).
"""

from __future__ import annotations

import os
import sys

from lifecycle_lab.base import paths


def lab_command(extra: list[str] | None = None) -> list[str]:
    """The JupyterLab command line, with the workbook's offline settings and any extra flags after them."""
    cmd = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={paths.NOTEBOOKS}",
           "--LabApp.extension_manager=readonly"]
    if hasattr(os, "getuid") and os.getuid() == 0:
        cmd.append("--allow-root")
    return cmd + list(extra or [])


def register(sub) -> None:
    lab = sub.add_parser("lab", help="open JupyterLab on the learner copies (offline settings)")
    lab.add_argument("--print", action="store_true", dest="print_only",
                     help="print the command instead of running it")
    lab.add_argument("extra", nargs="*", help="more JupyterLab flags, after `--` (e.g. -- --port=8899)")
    lab.set_defaults(handler=cmd_lab)


def cmd_lab(args) -> int:
    import shlex

    cmd = lab_command(args.extra)
    if args.print_only:
        print(shlex.join(cmd))
        return 0
    os.execv(cmd[0], cmd)  # JupyterLab takes over this process (Ctrl-C stops it)
    return 0  # pragma: no cover - execv does not return
