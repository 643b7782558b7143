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
    assert {"solutions/00_start_here.ipynb", "requirements.lock"} <= workbook
    assert not any(name.startswith((".venv/", "build/", "node_modules/")) for name in workbook)
