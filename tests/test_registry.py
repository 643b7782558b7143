"""Artifacts: round trip, checksum and version checks, foreign types refused; MLflow registry on SQLite."""

import json
import shutil

import numpy as np
import pytest

from lifecycle_lab import registry
from lifecycle_lab.scenarios import tickets


@pytest.fixture(scope="module")
def trained():
    data = tickets.generate(seed=3, n_tickets=300)
    return data, tickets.build_pipeline(3).fit(data["text"], data["label"])


@pytest.fixture
def artifact(tmp_path, trained):
    data, model = trained
    folder = tmp_path / "v1"
    registry.save_artifact(model, folder, name="tickets", version="1", training_data_sha256=tickets.data_hash(data),
                           seed=3, metrics={"f1": 0.9})
    return folder


def test_round_trip_predicts_the_same_and_records_provenance(artifact, trained):
    import hashlib
    from importlib import metadata

    data, model = trained
    loaded, meta = registry.load_artifact(artifact, expected_version="1")
    assert np.array_equal(loaded.predict_proba(data["text"]), model.predict_proba(data["text"]))
    assert meta.sha256 == hashlib.sha256((artifact / registry.MODEL_FILE).read_bytes()).hexdigest()
    assert meta.training_data_sha256 == hashlib.sha256(data.to_csv(index=False, lineterminator="\n").encode()).hexdigest()
    assert meta.seed == 3 and meta.libraries["scikit-learn"] == metadata.version("scikit-learn")
    assert meta.classes == sorted(tickets.CLASSES)


def test_tampered_file_is_refused(artifact):
    blob = bytearray((artifact / registry.MODEL_FILE).read_bytes())
    blob[len(blob) // 2] ^= 0x01
    (artifact / registry.MODEL_FILE).write_bytes(bytes(blob))
    with pytest.raises(registry.ArtifactError, match="does not match the recorded"):
        registry.load_artifact(artifact)


def test_swapped_model_file_is_refused(tmp_path, artifact, trained):
    data, _ = trained
    other = tickets.build_pipeline(4).fit(data["text"][:200], data["label"][:200])
    registry.save_artifact(other, tmp_path / "other", name="t", version="2", training_data_sha256="x", seed=4)
    shutil.copy(tmp_path / "other" / registry.MODEL_FILE, artifact / registry.MODEL_FILE)
    with pytest.raises(registry.ArtifactError, match="modified or swapped"):
        registry.load_artifact(artifact)


def test_wrong_version_and_library_mismatch_are_refused(artifact):
    with pytest.raises(registry.ArtifactError, match="version '1' but version '2' was requested"):
        registry.load_artifact(artifact, expected_version="2")
    meta = json.loads((artifact / registry.META_FILE).read_text())
    meta["libraries"]["scikit-learn"] = "0.24.2"
    (artifact / registry.META_FILE).write_text(json.dumps(meta))
    with pytest.raises(registry.ArtifactError, match="trained with scikit-learn 0.24.2"):
        registry.load_artifact(artifact)


def test_missing_or_broken_metadata_is_refused(tmp_path, artifact):
    with pytest.raises(registry.ArtifactError, match="is not a model artifact"):
        registry.load_artifact(tmp_path / "nothing")
    (artifact / registry.META_FILE).write_text("{not json")
    with pytest.raises(registry.ArtifactError, match="not valid artifact metadata"):
        registry.load_artifact(artifact)


def _shout(x):
    return x


def test_foreign_code_in_an_artifact_is_refused(tmp_path, trained):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    data, model = trained
    sneaky = make_pipeline(FunctionTransformer(_shout), model)
    registry.save_artifact(sneaky, tmp_path / "sneaky", name="t", version="1", training_data_sha256="x", seed=1)
    with pytest.raises(registry.ArtifactError, match="outside scikit-learn/numpy/scipy.*_shout"):
        registry.load_artifact(tmp_path / "sneaky")


def test_mlflow_registry_on_sqlite_with_aliases(tmp_path, trained):
    data, model = trained
    uri = registry.tracking_uri(tmp_path)
    assert uri.startswith("sqlite:///")
    first = registry.log_and_register(model, uri=uri, artifact_root=tmp_path / "art", experiment="t", name="clf",
                                      params={"C": 5}, metrics={"f1": 0.9}, alias="champion")
    second = registry.log_and_register(model, uri=uri, artifact_root=tmp_path / "art", experiment="t", name="clf",
                                       params={"C": 50}, metrics={"f1": 0.8}, alias="challenger")
    assert (first["version"], second["version"]) == (1, 2)
    assert registry.aliases(uri, "clf") == {"champion": 1, "challenger": 2}
    registry.set_alias(uri, "clf", "champion", 2)  # promotion is one alias change
    assert registry.aliases(uri, "clf")["champion"] == 2
    served = registry.load_registered(uri, "clf", "champion")
    assert (served.predict(data["text"]) == model.predict(data["text"])).all()
    assert (tmp_path / "mlflow.db").is_file() and not (tmp_path / "mlruns").exists()
    with pytest.raises(registry.ArtifactError, match="file store"):
        registry.log_and_register(model, uri=str(tmp_path / "mlruns"), artifact_root=tmp_path, experiment="t",
                                  name="clf", params={}, metrics={})
