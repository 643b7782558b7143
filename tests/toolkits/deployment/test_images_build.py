"""The image build's own logic, without podman: the wheelhouse holds what the lock pins for the images'
Pythons, the uv version is one number in the Makefile and both Dockerfiles, and both Dockerfiles take BASE
(default: the public Python 3.11 image) and install only from the lock (tests/integration/test_images.py
builds and runs them)."""

import re

from packaging.requirements import Requirement

from lifecycle_lab.base import paths
from lifecycle_lab.deployment import images

LOCK = paths.ROOT / "requirements.lock"
DOCKERFILES = [paths.ROOT / "docker" / "service.Dockerfile", paths.ROOT / "docker" / "workbook.Dockerfile"]


def test_lock_requirements_follow_the_markers_of_each_python():
    on_debian = images.lock_requirements(LOCK, "3.11.2")
    on_newer = images.lock_requirements(LOCK, "3.11.9")
    both = images.lock_requirements(LOCK)
    assert "async-timeout==5.0.1" in on_debian and "async-timeout==5.0.1" not in on_newer  # < 3.11.3 only
    assert set(on_debian) | set(on_newer) >= set(both) >= set(on_debian)
    pins = [line for line in LOCK.read_text().splitlines() if "==" in line and not line.startswith((" ", "#"))]
    windows_only = [p for p in pins if "sys_platform == 'win32'" in p and " or " not in p and "and" not in p]
    assert windows_only and not {Requirement(p).name for p in windows_only} & {r.split("==")[0] for r in both}
    assert len(both) < len(pins)


def test_the_service_wheelhouse_holds_the_build_backend_its_lock_does_not_pin():
    # `pip install .` in the service image builds the package offline in an isolated environment: without
    # setuptools in the wheelhouse it fails ("No matching distribution found for setuptools>=69"), which a
    # wheelhouse first filled for the workbook image hid
    service_lock = paths.ROOT / "docker" / "requirements-service.lock"
    setuptools = next(r for r in images.lock_requirements(LOCK) if r.startswith("setuptools=="))
    assert not any(r.startswith("setuptools==") for r in images.lock_requirements(service_lock))
    assert images.build_requirements() == [setuptools]
    for lock in (service_lock, LOCK):
        wanted = images.wheelhouse_requirements(lock)
        assert setuptools in wanted and f"uv=={images.UV_VERSION}" in wanted
        assert set(images.lock_requirements(lock)) <= set(wanted)


def test_missing_wheels_reads_names_and_versions_from_wheel_file_names(tmp_path):
    (tmp_path / "scikit_learn-1.9.1-cp311-cp311-manylinux_2_17_x86_64.whl").touch()
    (tmp_path / "Typing_Extensions-4.16.0-py3-none-any.whl").touch()
    wanted = ["scikit-learn==1.9.1", "typing-extensions==4.16.0", "typing_extensions==4.16", "numpy==2.4.6",
              "scikit-learn==1.9.0"]
    assert images.missing_wheels(wanted, tmp_path) == ["numpy==2.4.6", "scikit-learn==1.9.0"]
    assert images.missing_wheels(["numpy==2.4.6"], tmp_path / "none") == ["numpy==2.4.6"]


def test_one_uv_version_for_the_makefile_and_the_dockerfiles():
    makefile = re.search(r"^UV_VERSION := (\S+)$", (paths.ROOT / "Makefile").read_text(), re.M).group(1)
    for dockerfile in DOCKERFILES:
        assert f"ARG UV_VERSION={makefile}\n" in dockerfile.read_text(), dockerfile.name
    assert images.UV_VERSION == makefile


def test_dockerfiles_take_a_base_and_a_wheelhouse_and_install_from_the_lock_only():
    for dockerfile in DOCKERFILES:
        text = dockerfile.read_text()
        assert text.index("ARG BASE=python:3.11") < text.index("FROM ${BASE}\n")
        installs = [line for line in text.replace("\\\n", " ").splitlines() if line.startswith("RUN ") and "install" in line
                    and "apt-get" not in line]
        assert installs and all('${WHEELS:+--no-index --find-links "$WHEELS"}' in line for line in installs)
        assert all(line.count("--no-deps") == line.count("pip install") for line in installs), installs


def test_the_inputs_of_an_image_are_the_files_its_dockerfile_copies():
    service = {p.relative_to(paths.ROOT).as_posix() for p in images._context_files(DOCKERFILES[0])}
    assert {"docker/requirements-service.lock", "pyproject.toml", "README.md",
            "src/lifecycle_lab/projects/p01_tickets/api.py"} <= service
    assert not any(name.startswith(("solutions/", "tests/", "notebooks/")) for name in service)
    workbook = {p.relative_to(paths.ROOT).as_posix() for p in images._context_files(DOCKERFILES[1])}
    assert {"solutions/00_start_here.ipynb", "notebooks/00_start_here.ipynb", "requirements.lock",
            "datasets/tickets.csv", "course/_toc.yml", "docker/postman/ticket-api.postman_collection.json"} <= workbook
    assert not any(name.startswith((".venv/", "build/", "node_modules/", "tests/", "bench/", ".git/"))
                   for name in workbook)
    assert not any("__pycache__" in name or name.endswith(".egg-info") for name in workbook | service)


def _tree(root, names):
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)


# The oracle: Docker's documented .dockerignore rules, written out by hand for each file (a pattern matches the
# whole path from the context root or a parent folder of it; `*` stays in one folder, `**` spans any number;
# the last matching pattern wins, `!` includes again; `#` lines are comments). tests/integration/test_images.py
# compares the same kind of cases with what buildah really copies.
FILES = ["a.db", "sub/b.db", "logs/1.log", "logs/keep.txt", "x/__pycache__/m.pyc", "__pycache__/n.pyc",
         "README.md", "NOTES.md", "sub/NOTES.md", "docs/secret", "docs/a/b/secret", "docs/a/readme",
         "build/out", "q.tmp", "keep/q.tmp", "Case.DB", "src/pkg.egg-info/PKG-INFO", "src/pkg/m.py"]
PATTERNS = ["# a comment", "*.db", "**/__pycache__", "logs", "!logs/keep.txt", "*.md", "!README.md",
            "docs/**/secret", "/build/", "**/*.tmp", "!keep/**", "src/*.egg-info", "  ./sub/x/../NOTES.md  "]
KEPT = {"sub/b.db", "logs/keep.txt", "README.md", "docs/a/readme", "keep/q.tmp", "Case.DB", "src/pkg/m.py",
        ".dockerignore"}


def test_context_files_follow_the_dockerignore_rules(tmp_path):
    _tree(tmp_path, FILES)
    (tmp_path / ".dockerignore").write_text("\n".join(PATTERNS) + "\n")
    assert set(images.context_files(tmp_path)) == KEPT
    assert set(images.context_files(tmp_path, patterns=[])) == set(FILES) | {".dockerignore"}
    # "**/c" excludes c/ at the root and everything below it; "!c/d" reopens the folder d only
    _tree(tmp_path / "n", ["c/keep", "c/other", "c/d/f", "e/c/g"])
    assert images.context_files(tmp_path / "n", ["**/c", "!c/keep", "!c/d"]) == ["c/d/f", "c/keep"]
    # a "!" pattern that does not name a path inside an excluded folder does not reopen it (the builders'
    # walk skips the folder), though it matches files at the level it is on
    _tree(tmp_path / "m", ["sub/keep.txt", "sub/deeper/keep.txt", "sub/x"])
    assert images.context_files(tmp_path / "m", ["sub/**", "!**/keep.txt"]) == ["sub/keep.txt"]


def test_copy_sources_read_each_copy_line_of_the_dockerfiles():
    assert images.copy_sources(DOCKERFILES[0]) == ["docker/requirements-service.lock", "pyproject.toml",
                                                    "README.md", "src"]
    workbook = images.copy_sources(DOCKERFILES[1])
    assert "." not in workbook and {"src", "solutions", "notebooks", "requirements.lock"} <= set(workbook)


def test_the_digest_changes_with_what_an_image_copies_and_nothing_else(tmp_path):
    """A copy of the repository's context files an image takes, plus tests/ and a notebook: changing tests/
    keeps both digests, a notebook keeps the service's and changes the workbook's, src/ changes both."""
    root = tmp_path / "repo"
    names = sorted({*images.image_files(DOCKERFILES[0]), *images.image_files(DOCKERFILES[1]), "tests/test_x.py",
                    ".dockerignore", "bench/b.py"})
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes((paths.ROOT / name).read_bytes() if (paths.ROOT / name).exists() else b"x")
    args = {"BASE": images.BASE, "WHEELS": "/wheels"}

    def digests():
        return [images.inputs_digest(d, args, base_id="b" * 64, root=root) for d in DOCKERFILES]

    first = digests()
    (root / "tests/test_x.py").write_text("changed")
    (root / "bench/b.py").write_text("changed")
    (root / "src/lifecycle_lab/__pycache__").mkdir()
    (root / "src/lifecycle_lab/__pycache__/cli.cpython-311.pyc").write_bytes(b"ignored by .dockerignore")
    assert digests() == first
    (root / "notebooks/00_start_here.ipynb").write_text("{}")
    second = digests()
    assert second[0] == first[0] and second[1] != first[1]
    (root / "src/lifecycle_lab/new_module.py").write_text("")  # an untracked file is sent: it counts
    third = digests()
    assert third[0] != second[0] and third[1] != second[1]
    (root / "src/lifecycle_lab/new_module.py").chmod(0o755)
    assert digests()[0] != third[0]
    assert images.inputs_digest(DOCKERFILES[0], args, base_id="c" * 64, root=root) != digests()[0]


def test_the_readmes_docker_builds_are_what_make_images_runs():
    """README.md's `docker build` lines are not run verbatim here (their default BASE comes from a registry and
    their packages from the index, neither reachable in CI): `make images` runs the same Dockerfile, tag and
    context with podman, and adds only the options of a build without them. The README's `docker run` lines
    (tests/integration/test_images.py runs them with podman) use the tags built here."""
    import shlex

    from helpers import readme_docker_commands

    cmds = readme_docker_commands()
    assert len(cmds["build"]) == 2 and len(cmds["run"]) == 3 and cmds["newman"]
    tags = {"docker/service.Dockerfile": images.SERVICE, "docker/workbook.Dockerfile": images.WORKBOOK}
    args = {"BASE": images.BASE, "WHEELS": "/wheels"}
    for line in cmds["build"]:
        words = shlex.split(line)
        assert words[:3] == ["docker", "build", "-f"] and words[4] == "-t" and words[6:] == ["."], line
        dockerfile, tag = words[3], words[5]
        assert tags[dockerfile] == f"localhost/{tag}:latest"  # podman's name for `-t TAG`
        argv = [str(a) for a in images.build_argv(paths.ROOT / dockerfile, tags[dockerfile], "d" * 64, args)]
        assert argv[0] == "build" and argv[-5:] == ["-f", str(paths.ROOT / dockerfile), "-t", tags[dockerfile],
                                                     str(paths.ROOT)]
        assert argv[1:-5] == ["--layers=false", "--format", "docker", "--isolation", "chroot", "--network", "host",
                              "-v", f"{images.WHEELHOUSE}:/wheels:ro", "--label", f"{images.LABEL}={'d' * 64}",
                              "--build-arg", f"BASE={images.BASE}", "--build-arg", "WHEELS=/wheels"]
    images_run = {shlex.split(c.replace('"$PWD', '"/x').replace('"$(id -u)"', "0"))[-1] for c in cmds["run"]
                  if " batch " not in c} | {"lifecycle-lab-service"}
    assert {f"localhost/{t}:latest" for t in images_run} == set(tags.values())


def test_run_env_points_podman_at_a_containers_conf_without_rlimits_and_with_runc(tmp_path):
    env = images.run_env(tmp_path)
    conf = (tmp_path / "containers.conf").read_text()
    assert env["CONTAINERS_CONF"] == str(tmp_path / "containers.conf")
    assert env["STORAGE_DRIVER"] == images.storage_driver()
    import tomllib

    parsed = tomllib.loads(conf)
    assert parsed == {"containers": {"default_ulimits": []}, "engine": {"runtime": "runc"}}
