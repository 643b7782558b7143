"""Model artifacts you can trust, and the experiment log and model registry (MLflow on local SQLite).

Why: a model file alone does not say which code, data and seed made it, and a pickle runs arbitrary code
when loaded. Here an artifact is a folder with `model.skops` (skops: loads only the types you name) and
`model.json` recording the version, the training-data hash, the seed, library versions, metrics, the
review threshold chosen with the model, the file's sha256 and a sha256 of the metadata itself.
`load_artifact` recomputes both and refuses a tampered or mismatched artifact before anything is served.

A model file is code unless proven otherwise: a skops file names the Python types and functions to rebuild,
and a vectorizer whose `analyzer` is `builtins.eval` evaluates every text it is given. So `load_artifact`
reads the file's schema (JSON, nothing imported or run) and loads it only when every type in it is on
`ALLOWED_TYPES`, the exact list of types the workbook's pipelines contain; anything else is refused by name.

MLflow keeps the experiment history and the registry (aliases champion / challenger) in one SQLite file:
never the file store, and with telemetry switched off. What is served is what the registry says:
`export_artifact` resolves an alias (`@champion`) and writes the artifact folder the batch job and the API
load, with the registry's version number, so promoting or rolling back is "move the alias, export again".

Limits: the checksums catch a corrupted, swapped or hand-edited file, not a deliberate forger, who can
rewrite model.json too; against that, compare `/model`'s sha256 with the registry, or sign the artifact.
Of the recorded library versions only scikit-learn's major.minor is enforced (a model's behaviour can
change across its minor versions); numpy, scipy and skops are recorded for the reader, and skops itself
refuses a file format it cannot read.

Heavy libraries (skops, mlflow, sklearn) are imported inside the functions.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lifecycle_lab.base.errors import LifecycleLabError

MODEL_FILE = "model.skops"
META_FILE = "model.json"
# The exact types (and the skops node that rebuilds each) in the pipelines the workbook trains and serves:
# `tickets.build_pipeline` as notebook 01, the nightly job and an MLflow export write it. Derived from those
# files' schemas (skops.io.get_untrusted_types lists none of them: skops trusts every scikit-learn class by
# default, FunctionTransformer and its `func` included). No prefixes: a new type is added here on purpose.
ALLOWED_TYPES: dict[str, frozenset[str]] = {
    "builtins.dict": frozenset({"DictNode"}),
    "builtins.list": frozenset({"ListNode"}),
    "builtins.str": frozenset({"JsonNode", "TypeNode"}),
    "builtins.tuple": frozenset({"TupleNode"}),
    "numpy.float64": frozenset({"TypeNode"}),
    "numpy.ndarray": frozenset({"NdArrayNode"}),
    "sklearn.feature_extraction.text.TfidfTransformer": frozenset({"ObjectNode"}),
    "sklearn.feature_extraction.text.TfidfVectorizer": frozenset({"ObjectNode"}),
    "sklearn.linear_model._logistic.LogisticRegression": frozenset({"ObjectNode"}),
    "sklearn.pipeline.FeatureUnion": frozenset({"ObjectNode"}),
    "sklearn.pipeline.Pipeline": frozenset({"ObjectNode"}),
}
# Allowed types can still be told to do something else by a parameter: a vectorizer with input="filename"
# opens each ticket text as a path on the server, a forged token_pattern can backtrack for minutes on one
# text (ReDoS), a pipeline `memory` writes to a folder. These parameters must have the shipped values.
SAFE_PARAMS: dict[str, tuple] = {
    "input": ("content",),
    "analyzer": ("word", "char", "char_wb"),
    "preprocessor": (None,),
    "tokenizer": (None,),
    "token_pattern": (r"(?u)\b\w\w+\b",),
    "memory": (None,),
}
MAX_SCHEMA_BYTES = 64 << 20  # a schema.json larger than this is not one of the workbook's models
RECORDED_LIBRARIES = ("scikit-learn", "numpy", "scipy", "skops", "pandas")


class ArtifactError(LifecycleLabError, ValueError):
    """An artifact is missing, tampered with, or does not match what the caller expects."""


class UntrustedArtifactError(ArtifactError):
    """A model file is not a skops file, or names a type outside ALLOWED_TYPES: refused before loading."""


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
    review_threshold: float | None = None  # confidence below which a human reviews; chosen with the model
    source: dict[str, Any] = field(default_factory=dict)  # where it came from, e.g. the registry version
    sha256: str = ""
    meta_sha256: str = ""


def _meta_digest(meta: dict) -> str:
    """sha256 of the canonical JSON of every metadata field except the digest itself."""
    body = {k: v for k, v in meta.items() if k != "meta_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


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


def _check_threshold(value) -> float | None:
    """A confidence in [0, 1]; one step above 1 is allowed too: "no confidence is enough, a human reviews all"
    (what evaluate.review_threshold returns when no threshold reaches the precision target)."""
    import math

    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not 0 <= float(value) <= math.nextafter(1.0, 2.0):
        raise ArtifactError(f"review_threshold={value!r} must be a confidence between 0 and 1 (or None)")
    return float(value)


def save_artifact(model, folder: str | Path, *, name: str, version: str, training_data_sha256: str, seed: int,
                  metrics: dict | None = None, params: dict | None = None, review_threshold: float | None = None,
                  source: dict | None = None) -> ArtifactMeta:
    """Write model.skops and model.json (with the sha256 of model.skops and of the metadata) into folder.

    `review_threshold`: the confidence below which a ticket goes to a human, chosen with the model; the
    batch job and the API use it unless told otherwise.
    """
    import skops.io as sio

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    sio.dump(model, folder / MODEL_FILE)
    meta = ArtifactMeta(name=name, version=str(version), classes=[str(c) for c in model.classes_],
                        training_data_sha256=training_data_sha256, seed=int(seed), libraries=library_versions(),
                        metrics={k: round(float(v), 6) for k, v in (metrics or {}).items()},
                        params=dict(params or {}), review_threshold=_check_threshold(review_threshold),
                        source=dict(source or {}), sha256=sha256_file(folder / MODEL_FILE))
    meta.meta_sha256 = _meta_digest(json.loads(json.dumps(asdict(meta))))  # digest of what is written
    (folder / META_FILE).write_text(json.dumps(asdict(meta), indent=2, sort_keys=True) + "\n")
    return meta


def read_meta(folder: str | Path) -> ArtifactMeta:
    folder = Path(folder)
    path = folder / META_FILE
    if not path.is_file() or not (folder / MODEL_FILE).is_file():
        raise ArtifactError(f"{folder} is not a model artifact: it needs {MODEL_FILE} and {META_FILE} "
                            f"(write one with registry.save_artifact)")
    try:
        raw = json.loads(path.read_text())
        meta = ArtifactMeta(**raw)
    except (json.JSONDecodeError, TypeError) as err:
        raise ArtifactError(f"{path} is not valid artifact metadata ({err}); re-save the artifact") from None
    if raw.get("meta_sha256") != _meta_digest(raw):
        raise ArtifactError(f"refusing to serve: {path} was edited after it was saved (its metadata sha256 does "
                            f"not match); re-save or re-export the artifact instead of editing model.json")
    return meta


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


def serving_threshold(meta: ArtifactMeta, override: float | None = None) -> float:
    """The review threshold to serve with: `override` when given, else the one recorded in the artifact.

    Why: the notebook chooses it on validation data for a stated precision; serving another value silently
    changes what `needs_review` means. An artifact without one must be given one explicitly.
    """
    value = override if override is not None else meta.review_threshold
    if value is None:
        raise ArtifactError(f"artifact version {meta.version} records no review threshold; give one (a confidence "
                            f"in [0, 1]: --review-threshold on the command line, review_threshold= in Python), or "
                            f"save the artifact with save_artifact(review_threshold=...) or export it from a run "
                            f"logged with log_and_register(review_threshold=...)")
    return _check_threshold(value)


def _walk_types(node, found: set[tuple[str, str]]) -> None:
    """Every (module.type, skops node kind) a skops schema names, at any depth (iteratively: no recursion limit)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "__loader__" in item:
                found.add((f"{item.get('__module__', '?')}.{item.get('__class__', '?')}", str(item["__loader__"])))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def artifact_types(path: str | Path) -> set[tuple[str, str]]:
    """The (type, skops node kind) pairs a .skops file would rebuild, read from its schema.json only.

    Nothing is imported or constructed. A file that is not a zip with a JSON schema (a pickle, say) is
    refused with UntrustedArtifactError.
    """
    import zipfile

    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(4)
    how = ("it is a Python pickle, which runs code when loaded" if head[:1] == b"\x80" else
           f"it starts with {head!r}")
    if not zipfile.is_zipfile(path):
        raise UntrustedArtifactError(f"refusing to load {path}: it is not a skops file (a zip archive); {how}. "
                                     f"Re-save the model with registry.save_artifact or re-export it from the "
                                     f"registry (lifecycle-lab export-model)")
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("schema.json")
            if info.file_size > MAX_SCHEMA_BYTES:
                raise UntrustedArtifactError(f"refusing to load {path}: its schema.json is {info.file_size} bytes, "
                                             f"more than {MAX_SCHEMA_BYTES}; this is not one of the workbook's models")
            schema = json.loads(archive.read(info))
    except (KeyError, zipfile.BadZipFile, UnicodeDecodeError, json.JSONDecodeError, OSError) as err:
        raise UntrustedArtifactError(f"refusing to load {path}: it is not a readable skops file ({type(err).__name__}: "
                                     f"{err}); re-save it with registry.save_artifact") from None
    found: set[tuple[str, str]] = set()
    _walk_types(schema, found)
    return found


def check_model_file(path: str | Path) -> list[str]:
    """Refuse (UntrustedArtifactError, naming them) a model file with any type outside ALLOWED_TYPES.

    Returns the sorted type names it contains, all allowed: what skops is then told to trust.
    """
    path = Path(path)
    found = artifact_types(path)
    foreign = sorted(f"{name} ({kind})" for name, kind in found if kind not in ALLOWED_TYPES.get(name, ()))
    if foreign:
        raise UntrustedArtifactError(f"refusing to load {path}: it contains types that are not on the allow-list "
                                     f"of the workbook's pipelines (registry.ALLOWED_TYPES): {foreign}. A model file "
                                     f"can carry code (a function as an analyzer runs on every text); nothing "
                                     f"was loaded. Re-train the model, or, if you wrote that pipeline yourself and "
                                     f"read every type above, add exactly those types to ALLOWED_TYPES")
    return sorted({name for name, _ in found})


def check_model_params(model, where: str | Path = "the model") -> None:
    """Refuse (UntrustedArtifactError) a loaded model whose parameters listed in SAFE_PARAMS differ from the
    shipped values. Loading set them; nothing has used them yet (no text was transformed)."""
    params = model.get_params(deep=True) if hasattr(model, "get_params") else {}
    bad = sorted(f"{key}={value!r}" for key, value in params.items()
                 if key.rsplit("__", 1)[-1] in SAFE_PARAMS and value not in SAFE_PARAMS[key.rsplit("__", 1)[-1]])
    if bad:
        raise UntrustedArtifactError(f"refusing to serve {where}: parameters {bad} differ from the values the "
                                     f"workbook ships (registry.SAFE_PARAMS); they would make the model read files, "
                                     f"run a regex of the file author's choosing or write to disk. Re-train it")


def load_artifact(folder: str | Path, *, expected_version: str | None = None):
    """(model, meta) after verifying the artifact; only the exact types in ALLOWED_TYPES are loaded."""
    import skops.io as sio

    meta = verify_artifact(folder, expected_version=expected_version)
    path = Path(folder) / MODEL_FILE
    model = sio.load(path, trusted=check_model_file(path))
    check_model_params(model, path)
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


TAG_DATA = "training_data_sha256"
TAG_THRESHOLD = "review_threshold"


def log_and_register(model, *, uri: str, artifact_root: str | Path, experiment: str, name: str,
                     params: dict, metrics: dict, tags: dict | None = None, alias: str | None = None,
                     training_data_sha256: str | None = None, review_threshold: float | None = None) -> dict:
    """Log one training run (params, metrics, the skops-serialised model) and register it as a new version.

    Returns {"run_id", "version", "alias"}. The alias (champion / challenger) is what serving resolves.
    The training-data hash and the review threshold are run tags: `export_artifact` copies them into the
    served artifact. `params` should hold the `seed`.
    """
    tags = dict(tags or {})
    if training_data_sha256 is not None:
        tags[TAG_DATA] = training_data_sha256
    if review_threshold is not None:
        tags[TAG_THRESHOLD] = repr(_check_threshold(review_threshold))
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
    return _load_registered_checked(_mlflow(uri), name, alias)


def _load_registered_checked(mlflow, name: str, alias: str):
    """The registered model, loaded with the same allow-list as load_artifact (not MLflow's recorded
    `skops_trusted_types`, which whoever can write the registry's artifacts can rewrite)."""
    import tempfile

    import skops.io as sio
    import yaml

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{name}@{alias}", dst_path=tmp))
        try:
            flavor = yaml.safe_load((local / "MLmodel").read_text())["flavors"]["sklearn"]
        except (OSError, KeyError, TypeError, yaml.YAMLError) as err:
            raise UntrustedArtifactError(f"refusing to load {name}@{alias}: its MLmodel file has no readable "
                                         f"sklearn flavour ({type(err).__name__}: {err})") from None
        if flavor.get("serialization_format") != "skops":
            raise UntrustedArtifactError(f"refusing to load {name}@{alias}: it is stored as "
                                         f"{flavor.get('serialization_format')!r}, not skops; a pickle runs code "
                                         f"when loaded. Log it with log_and_register, which writes skops")
        path = local / str(flavor.get("pickled_model", "model.skops"))
        if not path.resolve().is_relative_to(local.resolve()) or not path.is_file():
            raise UntrustedArtifactError(f"refusing to load {name}@{alias}: its model file {path.name!r} is missing "
                                         f"or outside the model folder")
        model = sio.load(path, trusted=check_model_file(path))
        check_model_params(model, f"{name}@{alias}")
        return model


def export_artifact(uri: str, name: str, alias: str, folder: str | Path) -> ArtifactMeta:
    """Write the model an alias points to (e.g. `@champion`) as a verified artifact folder, and check it.

    Why: the batch job and the API load a folder, not the registry; exporting from the alias is what ties
    "champion" to what is served. The artifact gets the registry's version number, and the run's seed,
    training-data hash, review threshold and metrics; promotion or rollback = `set_alias`, then export again.
    """
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).is_file():
        raise ArtifactError(f"no registry at {uri}: the file does not exist; check the path (a new, empty "
                            f"registry would have no {alias!r} to export)")
    mlflow = _mlflow(uri)
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    try:
        mv = client.get_model_version_by_alias(name, alias)
    except MlflowException as err:
        raise ArtifactError(f"the registry at {uri} has no model {name!r} with alias {alias!r} "
                            f"({str(err).splitlines()[0]}); register one, or set the alias with set_alias") from None
    run = client.get_run(mv.run_id)
    tags, params = run.data.tags, run.data.params
    missing = [t for t in (TAG_DATA,) if t not in tags] + (["seed"] if "seed" not in params else [])
    if missing:
        raise ArtifactError(f"registered version {mv.version} of {name!r} lacks {missing} in its run; log it "
                            f"with log_and_register(training_data_sha256=..., params={{'seed': ...}})")
    threshold = float(tags[TAG_THRESHOLD]) if TAG_THRESHOLD in tags else None
    model = _load_registered_checked(mlflow, name, alias)
    meta = save_artifact(model, folder, name=name, version=str(mv.version), training_data_sha256=tags[TAG_DATA],
                         seed=int(params["seed"]), metrics=dict(run.data.metrics), params=dict(params),
                         review_threshold=threshold,
                         source={"registry_model": name, "alias": alias, "registry_version": int(mv.version),
                                 "run_id": mv.run_id})
    verify_artifact(folder, expected_version=str(mv.version))
    return meta


@dataclass
class ReleaseDecision:
    """Whether a challenger may replace the champion, with both rules' verdicts and the reason."""

    promote: bool
    meets_target: bool
    no_worse_than_champion: bool
    reason: str


def release_decision(challenger_score: float, champion_score: float, target: float,
                     tolerance: float = 0.0) -> ReleaseDecision:
    """The release rule, fixed before the comparison: promote only when the challenger meets the absolute
    quality target AND is no worse than the champion (minus `tolerance`) on the same validation data.

    Why both: the target alone would let a worse model replace a better one; "better than the champion"
    alone would let two bad models replace each other.
    """
    for label, value in (("challenger_score", challenger_score), ("champion_score", champion_score),
                         ("target", target), ("tolerance", tolerance)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise ArtifactError(f"{label}={value!r} must be a number")
    meets = challenger_score >= target
    no_worse = challenger_score >= champion_score - tolerance
    if meets and no_worse:
        reason = "promote: move the champion alias to the challenger (set_alias), then export it"
    elif not meets:
        reason = f"keep the champion: the challenger scores {challenger_score:.3f}, below the target {target:.3f}"
    else:
        reason = (f"keep the champion: the challenger scores {challenger_score:.3f}, worse than the champion's "
                  f"{champion_score:.3f}")
    return ReleaseDecision(meets and no_worse, meets, no_worse, reason)


# -- the registry as an inventory: registered models, their tags and aliases (notebook 06) ------------------

def register_model_record(uri: str, name: str, *, tags: dict, source: str | Path, versions: int = 1,
                          alias: str | None = None, description: str = "") -> dict:
    """Register a model with its governance tags and `versions` versions pointing at `source` (a folder the
    caller owns), without a training run; `alias` (e.g. champion) goes on the latest version.

    Why without a run: an inventory of a platform's models is about their records, not their weights; the
    workbook's own training paths use `log_and_register`."""
    _mlflow(uri)
    from mlflow import MlflowClient

    client = MlflowClient()
    client.create_registered_model(name, tags={k: str(v) for k, v in tags.items()}, description=description)
    Path(source).mkdir(parents=True, exist_ok=True)
    latest = None
    for _ in range(max(1, int(versions))):
        latest = client.create_model_version(name, source=Path(source).resolve().as_uri())
    if alias:
        client.set_registered_model_alias(name, alias, latest.version)
    return {"name": name, "version": int(latest.version), "alias": alias}


def model_records(uri: str) -> list[dict]:
    """Every registered model as {"name", "tags", "aliases" {alias: version}, "latest_version"}, by name."""
    _mlflow(uri)
    from mlflow import MlflowClient

    client = MlflowClient()
    out = []
    for m in client.search_registered_models(max_results=1000):
        versions = [int(v.version) for v in client.search_model_versions(f"name='{m.name}'")]
        out.append({"name": m.name, "tags": dict(m.tags), "aliases": {a: int(v) for a, v in m.aliases.items()},
                    "latest_version": max(versions) if versions else None})
    return sorted(out, key=lambda r: r["name"])


def model_record(uri: str, name: str) -> dict:
    """One registered model's record (see `model_records`); ArtifactError when it is not registered."""
    _mlflow(uri)
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    try:
        m = client.get_registered_model(name)
    except MlflowException:
        raise ArtifactError(f"no registered model {name!r} at {uri}; list them with model_records") from None
    versions = [int(v.version) for v in client.search_model_versions(f"name='{name}'")]
    return {"name": m.name, "tags": dict(m.tags), "aliases": {a: int(v) for a, v in m.aliases.items()},
            "latest_version": max(versions) if versions else None}


def set_model_tags(uri: str, name: str, tags: dict) -> None:
    """Set (or overwrite) tags on a registered model."""
    _mlflow(uri)
    from mlflow import MlflowClient

    client = MlflowClient()
    for key, value in tags.items():
        client.set_registered_model_tag(name, key, str(value))
