"""Build and run the project's images without a registry or the package index: `make images`.

    .venv/bin/python -m lifecycle_lab.deployment.images            # base, wheelhouse, service, workbook
    .venv/bin/python -m lifecycle_lab.deployment.images service    # only what the service image needs

Four steps, each skipped when its result is current:

1. the base image `localhost/lifecycle-lab-base:bookworm`: Debian bookworm's Python 3.11 from Debian's packages
   (`mmdebstrap --variant=minbase`, no docs, man pages or locales), imported with `podman import`;
2. the wheelhouse `build/wheelhouse/`: every wheel requirements.lock pins for this platform (`pip download
   --no-deps --only-binary=:all:`), plus uv; the service image takes its subset from the same folder;
3. and 4. `docker/service.Dockerfile` and `docker/workbook.Dockerfile`, built by podman with `BASE` set to that
   base and the wheelhouse mounted at /wheels (`WHEELS=/wheels`: nothing is fetched inside the build but the
   workbook's Debian packages).

Why no per-instruction layer cache: with the `vfs` storage driver (the one that works here, as root in a
container) every cached step still copies the whole file system into a new container; a fully cached layered
rebuild of the service image took 4.5 min against 2 min for building it from scratch in one container
(`--layers=false`). So each image is built in one container and labelled with a digest of its inputs (the
Dockerfile, the build arguments, the base image and the files it copies); a build whose digest matches the
existing image's label is skipped. Measured sizes and times: bench/RESULTS-images.md.

`Container` runs commands in an image the way that works here: `buildah from` + `buildah run
--isolation=chroot --network=host` (`podman run` fails: crun cannot set rlimits in this sandbox); a server
started that way listens on the host's 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lifecycle_lab.base import paths
from lifecycle_lab.base.errors import LifecycleLabError

ROOT = paths.ROOT
BASE = "localhost/lifecycle-lab-base:bookworm"
SERVICE = "localhost/lifecycle-lab-service:latest"
WORKBOOK = "localhost/lifecycle-lab-workbook:latest"
WHEELHOUSE = ROOT / "build" / "wheelhouse"
LABEL = "org.lifecycle-lab.inputs"
DEBIAN_PACKAGES = ("python3", "python3-venv", "passwd")
DEBIAN_PYTHON = "3.11.2"  # bookworm's python3.11 (a test checks it in the image)
# the Makefile's uv version: the Dockerfiles' UV_VERSION default (a test keeps the three equal)
UV_VERSION = "0.13.8"
TOOLS = ("podman", "buildah", "mmdebstrap")


class ImageError(LifecycleLabError, RuntimeError):
    """An image could not be built or run; the message says what to fix."""


def storage_driver() -> str:
    return os.environ.get("LIFECYCLE_LAB_STORAGE_DRIVER", "vfs")


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def _run(cmd: list, *, log=None, check: bool = True, **kw) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in cmd], text=True, stdout=log or subprocess.PIPE,
                          stderr=subprocess.STDOUT, **kw)
    if check and done.returncode != 0:
        tail = (done.stdout or "")[-3000:] if log is None else f"(output in {getattr(log, 'name', 'the log')})"
        raise ImageError(f"`{' '.join(map(str, cmd[:6]))} ...` exited with {done.returncode}: {tail}")
    return done


def podman(*args, **kw) -> subprocess.CompletedProcess:
    return _run(["podman", "--storage-driver", storage_driver(), *args], **kw)


def buildah(*args, **kw) -> subprocess.CompletedProcess:
    return _run(["buildah", "--storage-driver", storage_driver(), *args], **kw)


def image_exists(name: str) -> bool:
    return podman("image", "exists", name, check=False).returncode == 0


def inspect(name: str) -> dict:
    """{'id', 'size' (bytes), 'labels'} of a local image."""
    out = podman("image", "inspect", name).stdout
    info = json.loads(out)[0]
    return {"id": info["Id"], "size": int(info["Size"]), "labels": info.get("Labels") or {}}


@dataclass
class Step:
    name: str
    skipped: bool
    seconds: float
    detail: dict = field(default_factory=dict)


# -- 1. the base image -----------------------------------------------------------------------------------------

def build_base(*, force: bool = False, log=None) -> Step:
    """Debian bookworm minbase with Python 3.11 and venv, as `localhost/lifecycle-lab-base:bookworm`."""
    start = time.monotonic()
    if image_exists(BASE) and not force:
        return Step("base", True, time.monotonic() - start, {"image": BASE})
    out = ROOT / "build" / "images"
    out.mkdir(parents=True, exist_ok=True)
    tar = out / "bookworm-rootfs.tar"
    excludes = [f"--dpkgopt=path-exclude=/usr/share/{d}/*" for d in ("man", "locale", "doc")]
    _run(["mmdebstrap", "--variant=minbase", "--include=" + ",".join(DEBIAN_PACKAGES),
          "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr", *excludes,
          "--dpkgopt=path-include=/usr/share/doc/*/copyright", "bookworm", tar], log=log)
    podman("import", "--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "--change", "ENV LANG=C.UTF-8", "--change", 'CMD ["/bin/bash"]', tar, BASE, log=log)
    tar.unlink()
    return Step("base", False, time.monotonic() - start, {"image": BASE})


# -- 2. the wheelhouse -----------------------------------------------------------------------------------------

def lock_requirements(lock: Path, python: str | None = None) -> list[str]:
    """`name==version` of every pin of a lock file whose marker holds on Linux x86_64 CPython `python` (a full
    version such as "3.11.2"); None: on this interpreter or on the Debian base's Python (the lock has pins
    for `python_full_version < '3.11.3'`), so one wheelhouse serves both."""
    from packaging.markers import default_environment
    from packaging.requirements import Requirement

    here = default_environment()
    versions = [python] if python else sorted({here["python_full_version"], DEBIAN_PYTHON})
    envs = [{**here, "python_full_version": v, "python_version": ".".join(v.split(".")[:2])} for v in versions]
    reqs = []
    for line in lock.read_text().splitlines():
        if not line or line.startswith((" ", "#", "-")):
            continue
        req = Requirement(line)
        if req.marker is None or any(req.marker.evaluate(env) for env in envs):
            version = next(iter(req.specifier)).version
            reqs.append(f"{req.name}=={version}")
    return reqs


def missing_wheels(requirements: list[str], folder: Path = WHEELHOUSE) -> list[str]:
    """The requirements no wheel file in `folder` provides (name and version from the wheel's file name)."""
    from packaging.utils import canonicalize_name, parse_wheel_filename
    from packaging.version import Version

    have = set()
    for wheel in folder.glob("*.whl") if folder.is_dir() else ():
        name, version, _, _ = parse_wheel_filename(wheel.name)
        have.add((canonicalize_name(name), version))
    missing = []
    for req in requirements:
        name, _, version = req.partition("==")
        if (canonicalize_name(name), Version(version)) not in have:
            missing.append(req)
    return missing


def _pip() -> list[str]:
    tools_pip = ROOT / ".tools" / "bin" / "pip"  # the Makefile's tool venv (it installs uv with it)
    if tools_pip.exists():
        return [str(tools_pip)]
    return [sys.executable, "-m", "pip"]


def build_requirements(pyproject: Path = ROOT / "pyproject.toml", lock: Path = ROOT / "requirements.lock") -> list[str]:
    """`name==version` of the package's build backend ([build-system] requires, e.g. setuptools) at the full
    lock's pins: `pip install .` in an image builds the package in an isolated environment, offline, from the
    wheelhouse, so the backend must be there even for an image whose own lock (the service's) does not pin it."""
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pins = {canonicalize_name(r.partition("==")[0]): r for r in lock_requirements(lock)}
    reqs = []
    for spec in tomllib.loads(pyproject.read_text())["build-system"]["requires"]:
        name = canonicalize_name(Requirement(spec).name)
        if name not in pins:
            raise ImageError(f"the build requirement {spec!r} of pyproject.toml has no pin in {lock.name}: "
                             f"add it to the dev extra and run `make lock`")
        reqs.append(pins[name])
    return reqs


def wheelhouse_requirements(lock: Path = ROOT / "requirements.lock") -> list[str]:
    """Every wheel an image built from `lock` installs: the lock's pins, the build backend, and uv."""
    return sorted(set(lock_requirements(lock) + build_requirements()) | {f"uv=={UV_VERSION}"})


def build_wheelhouse(lock: Path = ROOT / "requirements.lock", folder: Path = WHEELHOUSE, *, log=None) -> Step:
    """Download the wheels an image built from `lock` needs (`wheelhouse_requirements`) that `folder` lacks;
    the builds install only from there."""
    start = time.monotonic()
    wanted = wheelhouse_requirements(lock)
    missing = missing_wheels(wanted, folder)
    if missing:
        folder.mkdir(parents=True, exist_ok=True)
        reqs = folder / "missing.txt"
        reqs.write_text("\n".join(missing) + "\n")
        _run([*_pip(), "download", "--quiet", "--no-deps", "--only-binary=:all:", "-r", reqs, "-d", folder], log=log)
        reqs.unlink()
        still = missing_wheels(wanted, folder)
        if still:
            raise ImageError(f"no wheel was downloaded for {', '.join(still[:5])}: the images install only "
                             f"from wheels (a package with only a source release needs `pip wheel` first)")
    size = sum(f.stat().st_size for f in folder.glob("*.whl"))
    return Step("wheelhouse", not missing, time.monotonic() - start,
                {"wheels": len(wanted), "downloaded": len(missing), "bytes": size})


# -- 3. and 4. the images --------------------------------------------------------------------------------------

def _context_files(dockerfile: Path) -> list[Path]:
    """The files the Dockerfile's COPY lines take from the context (git's view: tracked or not ignored)."""
    sources = []
    for line in dockerfile.read_text().splitlines():
        if line.startswith("COPY "):
            parts = [p for p in line.split()[1:] if not p.startswith("--")]
            sources += parts[:-1]
    listed = _run(["git", "ls-files", "-co", "--exclude-standard", "-z", "--", *sources], cwd=ROOT).stdout
    return sorted(ROOT / f for f in listed.split("\0") if f and (ROOT / f).is_file())


def inputs_digest(dockerfile: Path, build_args: dict) -> str:
    """sha256 over everything an image is made from: Dockerfile, build arguments, base image, copied files."""
    digest = hashlib.sha256()
    digest.update(dockerfile.read_bytes())
    digest.update(json.dumps(build_args, sort_keys=True).encode())
    digest.update(inspect(build_args["BASE"])["id"].encode())
    for f in _context_files(dockerfile):
        digest.update(str(f.relative_to(ROOT)).encode() + b"\0" + f.read_bytes() + b"\0")
    return digest.hexdigest()


def build_image(dockerfile: Path, tag: str, *, force: bool = False, log=None) -> Step:
    """Build one Dockerfile on the local base and wheelhouse, unless the image's inputs are unchanged."""
    start = time.monotonic()
    args = {"BASE": BASE, "WHEELS": "/wheels"}
    digest = inputs_digest(dockerfile, args)
    old = inspect(tag) if image_exists(tag) else None
    if old and old["labels"].get(LABEL) == digest and not force:
        return Step(tag, True, time.monotonic() - start, {"bytes": old["size"], "inputs": digest[:12]})
    cmd = ["build", "--layers=false", "--format", "docker", "--isolation", "chroot", "--network", "host",
           "-f", dockerfile, "-v", f"{WHEELHOUSE}:/wheels:ro", "--label", f"{LABEL}={digest}", "-t", tag]
    for key, value in args.items():
        cmd += ["--build-arg", f"{key}={value}"]
    podman(*cmd, ROOT, log=log)
    if old and inspect(tag)["id"] != old["id"]:
        podman("rmi", old["id"], check=False)  # the previous build, now untagged
    return Step(tag, False, time.monotonic() - start, {"bytes": inspect(tag)["size"], "inputs": digest[:12]})


def build(targets=("service", "workbook"), *, force: bool = False, log=None) -> list[Step]:
    """Every step `make images` runs, in order; each is skipped when its result is current."""
    if missing_tools():
        raise ImageError(f"{', '.join(missing_tools())} not found: install them (as root: apt-get install "
                         f"podman buildah mmdebstrap); `make images` builds with podman, from Debian's packages")
    steps = [build_base(log=log)]
    lock = ROOT / ("requirements.lock" if "workbook" in targets else "docker/requirements-service.lock")
    steps.append(build_wheelhouse(lock, log=log))
    dockerfiles = {"service": (ROOT / "docker" / "service.Dockerfile", SERVICE),
                   "workbook": (ROOT / "docker" / "workbook.Dockerfile", WORKBOOK)}
    for target in targets:
        steps.append(build_image(*dockerfiles[target], force=force, log=log))
    return steps


# -- running commands in an image ------------------------------------------------------------------------------

class Container:
    """A working container of an image (`buildah from`), removed on exit; commands run as the image's user."""

    def __init__(self, image: str, *, volumes: dict | None = None):
        self.image = image
        self.volumes = volumes or {}
        self.name = None

    def __enter__(self):
        self.name = buildah("from", "--pull-never", self.image).stdout.strip().splitlines()[-1]
        return self

    def __exit__(self, *exc):
        if self.name:
            buildah("rm", self.name, check=False)
        return False

    def command(self, *cmd, env: dict | None = None) -> list[str]:
        mounts = [arg for host, ctr in self.volumes.items() for arg in ("-v", f"{host}:{ctr}")]
        envs = [f"{k}={v}" for k, v in (env or {}).items()]
        return ["buildah", "--storage-driver", storage_driver(), "run", "--isolation=chroot", "--network=host",
                *mounts, self.name, "--", *(["env", *envs] if envs else []), *map(str, cmd)]

    def run(self, *cmd, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
        """Run a command to its end; stdout and stderr are returned separately, never raised on."""
        return subprocess.run(self.command(*cmd, env=env), capture_output=True, text=True, timeout=timeout)

    def popen(self, *cmd, env: dict | None = None, stdout=None) -> subprocess.Popen:
        """Start a long-running command (a server) in its own process group: stop it with `stop`."""
        return subprocess.Popen(self.command(*cmd, env=env), stdout=stdout, stderr=subprocess.STDOUT,
                                start_new_session=True)

    @staticmethod
    def stop(proc: subprocess.Popen, timeout: float = 15) -> None:
        import signal

        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # the group buildah and the server in the image run in
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=timeout)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Build the base, the wheelhouse and the images (make images).")
    parser.add_argument("targets", nargs="*", help="service, workbook (default: both)")
    parser.add_argument("--force", action="store_true", help="rebuild the images even when their inputs are unchanged")
    parser.add_argument("--json", type=Path, help="also write the steps' timings and sizes to this file")
    args = parser.parse_args(argv)
    if set(args.targets) - {"service", "workbook"}:
        parser.error(f"unknown target {sorted(set(args.targets) - {'service', 'workbook'})}: use service, workbook")
    try:
        steps = build(tuple(args.targets or ("service", "workbook")), force=args.force, log=sys.stdout)
    except ImageError as err:
        print(f"images: {err}", file=sys.stderr)
        return 1
    for s in steps:
        size = f", {s.detail['bytes'] / 1e6:.0f} MB" if "bytes" in s.detail else ""
        print(f"{s.name}: {'current, skipped' if s.skipped else 'built'} in {s.seconds:.1f} s{size}")
    if args.json:
        args.json.write_text(json.dumps([asdict(s) for s in steps], indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
