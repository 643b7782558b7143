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
Dockerfile, the build arguments, the base image and the files its COPY lines take from the build context, as
`.dockerignore` leaves it: `IgnoreMatcher`, tested against what buildah copies); a build whose digest matches
the existing image's label is skipped, so a change to tests/ rebuilds neither image and a notebook only the
workbook's. Measured sizes and times: bench/RESULTS-images.md.

Running: plain `podman run` works here under `run_env()` (a containers.conf with no default rlimits and the
runc runtime: podman's default rlimits exceed the sandbox's hard limits, and crun refuses its hybrid cgroups),
so the README's `docker run` lines run with podman. `Container` runs commands in an image without a runtime:
`buildah from` + `buildah run --isolation=chroot --network=host`; a server started either way listens on the
host's 127.0.0.1.
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
WORKBOOK = "localhost/lifecycle-lab:latest"  # the README's `docker build ... -t lifecycle-lab`
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

def dockerignore_patterns(root: Path = ROOT) -> list[str]:
    """The patterns of `root`/.dockerignore as the builder reads them: one a line, blank lines and lines starting
    with `#` skipped, surrounding spaces stripped (no file: nothing is excluded)."""
    path = root / ".dockerignore"
    lines = path.read_text().splitlines() if path.exists() else []
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


class IgnoreMatcher:
    """Which paths of a build context a `.dockerignore` excludes, with the rules of the builders (moby's and
    containers/storage's `fileutils.PatternMatcher`, which podman and buildah use): each pattern is cleaned like
    Go's `filepath.Clean` (leading `/`, `.` and `..` dropped) and matched against the whole path relative to the
    context or against any of its parent folders (`build` excludes `build/x/y`); `*` and `?` do not cross `/`,
    `**` does (any number of folders, none included); the last pattern that matches decides, and one starting
    with `!` includes again. So `*.db` excludes `a.db` but not `sub/a.db`, unlike `.gitignore`.
    The glob-to-regex translation is docker-py's (in the lock through mlflow and prefect), case-sensitive as on
    Linux; the rest follows `fileutils.MatchesOrParentMatches` (tests compare both with what buildah copies)."""

    def __init__(self, patterns: list[str]):
        self.patterns = []
        for pattern in patterns:
            negate = pattern.startswith("!")
            parts: list[str] = []
            for piece in (pattern[1:] if negate else pattern).strip().split("/"):
                if piece == "..":
                    parts = parts[:-1]
                elif piece not in ("", "."):
                    parts.append(piece)
            if parts:  # "." or "/" alone excludes nothing ("for historical reasons")
                self.patterns.append((negate, parts, "/".join(parts)))

    def _match(self, text: str, pattern: str) -> bool:
        from docker.utils.fnmatch import fnmatchcase

        return fnmatchcase(text, pattern)

    def excluded(self, path: str) -> bool:
        """Whether the context path `path` (relative, `/`-separated) is left out of the build context."""
        parents = path.split("/")[:-1]
        excluded = False
        for negate, _, pattern in self.patterns:
            hit = self._match(path, pattern) or any(self._match("/".join(parents[:i]), pattern)
                                                     for i in range(1, len(parents) + 1))
            if hit:
                excluded = not negate
        return excluded

    def may_include_below(self, folder: str) -> bool:
        """Whether the walk goes on inside the excluded `folder`: only when a `!` pattern starts with its path
        (`!logs/keep.txt` for `logs`), as the builders' walk does; `!**/keep.txt` does not reopen a folder."""
        return any(negate and (pattern + "/").startswith(folder + "/") for negate, _, pattern in self.patterns)


def context_files(root: Path = ROOT, patterns: list[str] | None = None) -> list[str]:
    """Every file and symbolic link the build context of `root` holds for the builder: what `.dockerignore` (or
    `patterns`) leaves in, as sorted `/`-separated paths relative to `root`. Not git's view: untracked files
    count, and a file git ignores but `.dockerignore` does not is sent."""
    matcher = IgnoreMatcher(dockerignore_patterns(root) if patterns is None else patterns)
    found = []
    for folder, dirs, files in os.walk(root):
        rel = Path(folder).relative_to(root).as_posix()
        prefix = "" if rel == "." else rel + "/"
        keep = []
        for d in sorted(dirs):
            path = prefix + d
            if (Path(folder) / d).is_symlink():
                files.append(d)  # a link to a folder is copied as the link
            elif not matcher.excluded(path) or matcher.may_include_below(path):
                keep.append(d)
        dirs[:] = keep
        found += [prefix + f for f in files if not matcher.excluded(prefix + f)]
    return sorted(found)


def copy_sources(dockerfile: Path) -> list[str]:
    """The context paths the Dockerfile's COPY instructions take (`--from=` copies take none from the context),
    cleaned (`./src/` -> `src`; `.` is the whole context)."""
    sources = []
    for line in dockerfile.read_text().replace("\\\n", " ").splitlines():
        words = line.split()
        if not words or words[0].upper() not in ("COPY", "ADD"):
            continue
        if any(w.startswith("--from") for w in words[1:]):
            continue
        parts = [w for w in words[1:] if not w.startswith("--")]
        for src in parts[:-1]:
            clean = "/".join(p for p in src.split("/") if p not in ("", "."))
            sources.append(clean or ".")
    return sources


def image_files(dockerfile: Path, root: Path = ROOT) -> list[str]:
    """The context files an image is made from: those of `context_files` that its COPY lines take."""
    sources = copy_sources(dockerfile)
    if "." in sources:
        return context_files(root)
    return [f for f in context_files(root) if any(f == s or f.startswith(s + "/") for s in sources)]


def _context_files(dockerfile: Path) -> list[Path]:
    return [ROOT / f for f in image_files(dockerfile)]


def inputs_digest(dockerfile: Path, build_args: dict, *, base_id: str | None = None, root: Path = ROOT) -> str:
    """sha256 over everything an image is made from: Dockerfile, build arguments, base image, and each file the
    COPY lines take from the context as `.dockerignore` leaves it (name, executable bit, content; a link's
    target), so a change anywhere else (tests/, a notebook for the service) keeps the image current."""
    digest = hashlib.sha256()
    digest.update(dockerfile.read_bytes())
    digest.update(json.dumps(build_args, sort_keys=True).encode())
    digest.update((base_id or inspect(build_args["BASE"])["id"]).encode())
    for name in image_files(dockerfile, root):
        path = root / name
        if path.is_symlink():
            body, mode = b"->" + os.readlink(path).encode(), 0
        else:
            body, mode = path.read_bytes(), path.stat().st_mode & 0o111
        digest.update(name.encode() + b"\0" + str(mode).encode() + b"\0" + body + b"\0")
    return digest.hexdigest()


def build_argv(dockerfile: Path, tag: str, digest: str, args: dict) -> list:
    """`podman build` arguments: the README's `docker build -f DOCKERFILE -t TAG .` plus the options of a build
    without registry or index (the build arguments BASE and WHEELS, the wheelhouse mounted), chroot isolation and
    the host's network (what works as root here), one container for the whole build, and the inputs' label."""
    cmd = ["build", "--layers=false", "--format", "docker", "--isolation", "chroot", "--network", "host",
           "-v", f"{WHEELHOUSE}:/wheels:ro", "--label", f"{LABEL}={digest}"]
    for key, value in args.items():
        cmd += ["--build-arg", f"{key}={value}"]
    return cmd + ["-f", dockerfile, "-t", tag, ROOT]


def build_image(dockerfile: Path, tag: str, *, force: bool = False, log=None) -> Step:
    """Build one Dockerfile on the local base and wheelhouse, unless the image's inputs are unchanged."""
    start = time.monotonic()
    args = {"BASE": BASE, "WHEELS": "/wheels"}
    digest = inputs_digest(dockerfile, args)
    old = inspect(tag) if image_exists(tag) else None
    if old and old["labels"].get(LABEL) == digest and not force:
        return Step(tag, True, time.monotonic() - start, {"bytes": old["size"], "inputs": digest[:12]})
    podman(*build_argv(dockerfile, tag, digest, args), log=log)
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
    run_env()  # build/images/containers.conf, for `podman run` (README)
    return steps


# -- running commands in an image ------------------------------------------------------------------------------

RUN_CONF = """\
# `podman run` on this kind of machine (written by lifecycle_lab.deployment.images; CONTAINERS_CONF points here).
[containers]
# podman asks for RLIMIT_NOFILE/RLIMIT_NPROC above the sandbox's hard limits, and setting them fails
# ("setrlimit `RLIMIT_NOFILE`: Operation not permitted"): the container keeps the limits podman runs with
default_ulimits = []
[engine]
# crun refuses a machine whose cgroup v2 hierarchy holds a controller while v1 is mounted ("cgroups in hybrid
# mode not supported"); runc (Debian's package) runs there
runtime = "runc"
"""


def run_env(folder: Path = ROOT / "build" / "images") -> dict:
    """The environment under which plain `podman run` works here (and `docker` can stand for podman): the
    containers.conf above, and the storage driver of the images `make images` builds."""
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "containers.conf"
    if not conf.exists() or conf.read_text() != RUN_CONF:
        conf.write_text(RUN_CONF)
    return {**os.environ, "CONTAINERS_CONF": str(conf), "STORAGE_DRIVER": storage_driver()}


def podman_run_works(image: str = BASE) -> str | None:
    """None when `podman run --rm IMAGE true` works under `run_env`, else why not (podman's last line)."""
    done = subprocess.run(["podman", "run", "--rm", "--pull=never", image, "true"], env=run_env(),
                          capture_output=True, text=True, timeout=300)
    return None if done.returncode == 0 else (done.stderr.strip().splitlines() or ["exit %d" % done.returncode])[-1]


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
