"""The environment check of the orientation notebook, and the offline guard used by tests.

The workbook promises to run offline. `forbid_network()` makes that checkable: it installs an audit hook
that refuses any socket connection outside loopback, so a library that tries to phone home fails loudly
instead of hanging or silently downloading.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from importlib import metadata

from lifecycle_lab.base.errors import LifecycleLabError

CORE_PACKAGES = ["numpy", "pandas", "scipy", "scikit-learn", "matplotlib", "evidently", "fairlearn", "mlflow",
                 "fastapi", "sqlalchemy", "papermill", "nbval", "jupyterlab"]

TELEMETRY_OFF = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}


class OfflineViolation(LifecycleLabError, RuntimeError):
    """Code tried to open a network connection outside this machine."""


def versions(packages: list[str] | None = None) -> dict[str, str]:
    """Installed versions of the core packages ('missing' when absent), without importing them."""
    found = {}
    for name in packages or CORE_PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "missing"
    return found


def pin_lines(lock_text: str) -> list[str]:
    """The `name==version` lines of a requirements lock file, in order, without comments or options."""
    out = []
    for line in lock_text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-") and "==" in line:
            out.append(line)
    return out


def locked_versions(lock_text: str) -> dict[str, str]:
    """`name==version` pins of a requirements lock file, names normalised the way pip does."""
    pins = {}
    for line in pin_lines(lock_text):
        name, version = line.split("==", 1)
        pins[normalise(name.split("[")[0])] = version.split(";")[0].strip()
    return pins


def normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-").strip()


def disable_telemetry() -> dict[str, str]:
    """Switch off the usage reporting of MLflow and Evidently for this process (they try the network)."""
    for key, value in TELEMETRY_OFF.items():
        os.environ.setdefault(key, value)
    return {key: os.environ[key] for key in TELEMETRY_OFF}


def _is_local(address) -> bool:
    if isinstance(address, (str, bytes)):  # a unix socket path
        return True
    if not isinstance(address, tuple) or not address:
        return True
    host = address[0]
    if host in ("localhost", "", None):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name other than localhost would need DNS: that is the network


_GUARD_INSTALLED = False


def forbid_network() -> None:
    """Refuse, for the rest of this process, every socket connection outside loopback."""
    global _GUARD_INSTALLED
    if _GUARD_INSTALLED:
        return

    def hook(event, args):
        if event == "socket.connect" and not _is_local(args[1]):
            raise OfflineViolation(f"the workbook must run offline, but something tried to connect to "
                                   f"{args[1]!r}; find the library doing it and switch that feature off")
        if event == "socket.getaddrinfo" and args and args[0] not in ("localhost", None) and not _is_ip(args[0]):
            raise OfflineViolation(f"the workbook must run offline, but something looked up host {args[0]!r}")

    sys.addaudithook(hook)
    _GUARD_INSTALLED = True


def _is_ip(host) -> bool:
    try:
        ipaddress.ip_address(host if isinstance(host, str) else host.decode())
        return True
    except (ValueError, AttributeError, UnicodeDecodeError):
        return False
