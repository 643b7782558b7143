"""Model artifacts you can trust, and the experiment log and model registry (MLflow on local SQLite).

Why: a model file alone does not say which code, data and seed made it, and a pickle runs arbitrary code
when loaded. Here an artifact is a folder with `model.skops` (skops: loads only types you trust) and
`model.json` recording the version, the training-data hash, the seed, library versions, metrics and the
file's sha256. `load_artifact` recomputes the checksum and refuses a tampered or mismatched artifact
before anything is served. MLflow keeps the experiment history and the registry (aliases champion /
challenger) in one SQLite file: never the file store, and with telemetry switched off.

Heavy libraries (skops, mlflow, sklearn) are imported inside the functions.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MODEL_FILE = "model.skops"
META_FILE = "model.json"
TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.sparse.", "builtins.")
RECORDED_LIBRARIES = ("scikit-learn", "numpy", "scipy", "skops", "pandas")


class ArtifactError(ValueError):
    """An artifact is missing, tampered with, or does not match what the caller expects."""


@dataclass
class ArtifactMeta:
    """What an artifact records about itself; the checksum covers model.skops byte for byte."""

    name: str
    version: str
    classes: list[str]
    training_data_sha256: str
    seed: int
    libraries: dict[str, str]
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    sha256: str = ""


def sha256_file(path: str | Path) -> str:
    """sha256 of a file, read in blocks so large artifacts do not fill memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    from importlib import metadata

    return {name: metadata.version(name) for name in RECORDED_LIBRARIES}


def save_artifact(model, folder: str | Path, *, name: str, version: str, training_data_sha256: str, seed: int,
                  metrics: dict | None = None, params: dict | None = None) -> ArtifactMeta:
    """Write model.skops and model.json (with the sha256 of model.skops) into folder; return the metadata."""
    import skops.io as sio

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    sio.dump(model, folder / MODEL_FILE)
    meta = ArtifactMeta(name=name, version=str(version), classes=[str(c) for c in model.classes_],
                        training_data_sha256=training_data_sha256, seed=int(seed), libraries=library_versions(),
                        metrics={k: round(float(v), 6) for k, v in (metrics or {}).items()},
                        params=dict(params or {}), sha256=sha256_file(folder / MODEL_FILE))
    (folder / META_FILE).write_text(json.dumps(asdict(meta), indent=2, sort_keys=True) + "\n")
    return meta


def read_meta(folder: str | Path) -> ArtifactMeta:
    folder = Path(folder)
    path = folder / META_FILE
    if not path.is_file() or not (folder / MODEL_FILE).is_file():
        raise ArtifactError(f"{folder} is not a model artifact: it needs {MODEL_FILE} and {META_FILE} "
                            f"(write one with registry.save_artifact)")
    try:
        return ArtifactMeta(**json.loads(path.read_text()))
    except (json.JSONDecodeError, TypeError) as err:
        raise ArtifactError(f"{path} is not valid artifact metadata ({err}); re-save the artifact") from None


def verify_artifact(folder: str | Path, *, expected_version: str | None = None,
                    check_libraries: bool = True) -> ArtifactMeta:
    """Refuse an artifact whose file does not match its checksum, version or the installed scikit-learn."""
    folder = Path(folder)
    meta = read_meta(folder)
    actual = sha256_file(folder / MODEL_FILE)
    if actual != meta.sha256:
        raise ArtifactError(f"refusing to serve {folder / MODEL_FILE}: its sha256 {actual[:12]}... does not match "
                            f"the recorded {meta.sha256[:12]}...; the file was modified or swapped. Re-train or "
                            f"restore the artifact from the registry.")
    if expected_version is not None and str(expected_version) != meta.version:
        raise ArtifactError(f"refusing to serve: the artifact is version {meta.version!r} but version "
                            f"{expected_version!r} was requested; point to the right artifact folder")
    if check_libraries:
        installed = library_versions()["scikit-learn"]
        recorded = meta.libraries.get("scikit-learn", "?")
        if installed.split(".")[:2] != recorded.split(".")[:2]:
            raise ArtifactError(f"refusing to serve: the artifact was trained with scikit-learn {recorded}, but "
                                f"{installed} is installed; re-train it or install the recorded version")
    return meta


def load_artifact(folder: str | Path, *, expected_version: str | None = None):
    """(model, meta) after verifying the artifact; only types from sklearn/numpy/scipy are trusted."""
    import skops.io as sio

    meta = verify_artifact(folder, expected_version=expected_version)
    path = Path(folder) / MODEL_FILE
    untrusted = sio.get_untrusted_types(file=path)
    foreign = [t for t in untrusted if not t.startswith(TRUSTED_PREFIXES)]
    if foreign:
        raise ArtifactError(f"refusing to load {path}: it contains types outside scikit-learn/numpy/scipy: "
                            f"{foreign}; inspect them and load explicitly if you trust them")
    model = sio.load(path, trusted=untrusted)
    if [str(c) for c in model.classes_] != meta.classes:
        raise ArtifactError(f"refusing to serve: the model's classes {list(model.classes_)} differ from the "
                            f"recorded {meta.classes}")
    return model, meta


# -- MLflow: experiment tracking and the model registry on a local SQLite store ---------------------------

def tracking_uri(folder: str | Path) -> str:
    """A SQLite tracking URI inside folder (the file store is deprecated in MLflow 3 and refused here)."""
    return f"sqlite:///{(Path(folder) / 'mlflow.db').resolve()}"


def _mlflow(uri: str):
    if not uri.startswith(("sqlite:///", "postgresql", "mysql")):
        raise ArtifactError(f"tracking URI {uri!r}: use a database store such as sqlite:///path/mlflow.db; "
                            f"the ./mlruns file store is deprecated in MLflow 3")
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    os.environ.setdefault("DO_NOT_TRACK", "1")
    import logging
    import warnings

    with warnings.catch_warnings():  # tqdm's "IProgress not found" inside Jupyter: noise, not a problem
        warnings.simplefilter("ignore")
        import mlflow

    for noisy in ("mlflow", "alembic"):  # registry chatter would make notebook outputs vary run to run
        logging.getLogger(noisy).setLevel(logging.ERROR)
    mlflow.set_tracking_uri(uri)
    return mlflow


def log_and_register(model, *, uri: str, artifact_root: str | Path, experiment: str, name: str,
                     params: dict, metrics: dict, tags: dict | None = None, alias: str | None = None) -> dict:
    """Log one training run (params, metrics, the skops-serialised model) and register it as a new version.

    Returns {"run_id", "version", "alias"}. The alias (champion / challenger) is what serving resolves.
    """
    mlflow = _mlflow(uri)
    from mlflow import MlflowClient

    client = MlflowClient()
    exp = client.get_experiment_by_name(experiment)
    if exp is None:
        location = Path(artifact_root).resolve().as_uri()
        exp_id = client.create_experiment(experiment, artifact_location=location)
    else:
        exp_id = exp.experiment_id
    with mlflow.start_run(experiment_id=exp_id) as run:
        mlflow.log_params(params)
        mlflow.log_metrics({k: float(v) for k, v in metrics.items()})
        if tags:
            mlflow.set_tags(tags)
        untrusted = __import__("skops.io", fromlist=["get_untrusted_types"]).get_untrusted_types(
            data=__import__("skops.io", fromlist=["dumps"]).dumps(model))
        mlflow.sklearn.log_model(model, name="model", serialization_format="skops",
                                 skops_trusted_types=untrusted, pip_requirements=["scikit-learn", "skops"])
        run_id = run.info.run_id
    import contextlib
    import io

    with contextlib.redirect_stderr(io.StringIO()):  # "Created version ..." lines: the return value says it
        mv = mlflow.register_model(f"runs:/{run_id}/model", name)
    if alias:
        client.set_registered_model_alias(name, alias, mv.version)
    return {"run_id": run_id, "version": int(mv.version), "alias": alias}


def set_alias(uri: str, name: str, alias: str, version: int) -> None:
    """Point an alias (champion, challenger) at a registered version: promotion and rollback are one call."""
    _mlflow(uri)
    from mlflow import MlflowClient

    MlflowClient().set_registered_model_alias(name, alias, str(version))


def aliases(uri: str, name: str) -> dict[str, int]:
    """{alias: version} of a registered model."""
    _mlflow(uri)
    from mlflow import MlflowClient

    model = MlflowClient().get_registered_model(name)
    return {alias: int(version) for alias, version in model.aliases.items()}


def load_registered(uri: str, name: str, alias: str):
    """The model an alias points to, loaded through MLflow's `models:/name@alias` URI."""
    mlflow = _mlflow(uri)
    return mlflow.sklearn.load_model(f"models:/{name}@{alias}")
