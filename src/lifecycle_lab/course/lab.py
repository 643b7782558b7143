"""Open JupyterLab on the learner copies, offline: the one place that knows the flags.

`make lab` and the workbook's Docker image both call `lifecycle-lab lab`, so a workshop room and a laptop
start JupyterLab the same way: rooted at notebooks/, the extension manager read-only (it would otherwise
query PyPI for extensions), no news feed and no update check (JupyterLab would otherwise ask on first start
whether to fetch Jupyter news from the internet), and `--allow-root` only where we run as root (containers, CI).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from lifecycle_lab.base import paths

NOTIFICATION_PLUGIN = "@jupyterlab/apputils-extension:notification"
OFFLINE_SETTINGS = {NOTIFICATION_PLUGIN: {"fetchNews": "false", "checkForUpdates": False}}
"""Settings every learner's JupyterLab starts with: no Jupyter news fetched, no check for a newer release."""


def write_lab_settings(prefix: str | os.PathLike = sys.prefix) -> Path:
    """Merge the workbook's offline settings into the environment's JupyterLab `overrides.json`.

    Why the environment's file: it is what every JupyterLab started from this environment reads (`make lab`,
    the workbook image, the single-user servers of a hub), and a learner can still change the setting in
    their own user settings."""
    path = Path(prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    current = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    if all(current.get(plugin, {}).get(k) == v for plugin, values in OFFLINE_SETTINGS.items()
           for k, v in values.items()):
        return path  # already there: nothing written (the workbook image's environment is not the learner's to write)
    for plugin, values in OFFLINE_SETTINGS.items():
        current.setdefault(plugin, {}).update(values)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(current, indent=2) + "\n", encoding="utf-8")
    return path


def lab_command(extra: list[str] | None = None) -> list[str]:
    """The JupyterLab command line, with the workbook's offline settings and any extra flags after them."""
    cmd = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={paths.NOTEBOOKS}",
           "--LabApp.extension_manager=readonly",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
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
    write_lab_settings()
    os.execv(cmd[0], cmd)  # JupyterLab takes over this process (Ctrl-C stops it)
    return 0  # pragma: no cover - execv does not return
