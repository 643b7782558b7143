"""Artifacts: round trip, checksum and version checks, hand-edited metadata and foreign types refused; MLflow
registry on SQLite, and the served artifact exported from the registry's alias; the release rule."""

import hashlib
import json
import shutil

import numpy as np
import pytest

from lifecycle_lab.deployment import registry
from lifecycle_lab.projects.p01_tickets import world as tickets


@pytest.fixture(scope="module")
def trained():
    data = tickets.generate(seed=3, n_tickets=300)
    return data, tickets.build_pipeline(3).fit(data["text"], data["label"])


@pytest.fixture
def artifact(tmp_path, trained):
    data, model = trained
    folder = tmp_path / "v1"
    registry.save_artifact(model, folder, name="tickets", version="1", training_data_sha256=tickets.data_hash(data),
                           seed=3, metrics={"f1": 0.9}, review_threshold=0.75)
    return folder


def test_round_trip_predicts_the_same_and_records_provenance(artifact, trained):
    from importlib import metadata

    data, model = trained
    loaded, meta = registry.load_artifact(artifact, expected_version="1")
    assert np.array_equal(loaded.predict_proba(data["text"]), model.predict_proba(data["text"]))
    assert meta.sha256 == hashlib.sha256((artifact / registry.MODEL_FILE).read_bytes()).hexdigest()
    assert meta.training_data_sha256 == hashlib.sha256(data.to_csv(index=False, lineterminator="\n").encode()).hexdigest()
    assert meta.seed == 3 and meta.libraries["scikit-learn"] == metadata.version("scikit-learn")
    assert meta.classes == sorted(tickets.CLASSES) and meta.review_threshold == 0.75
    assert registry.serving_threshold(meta) == 0.75 and registry.serving_threshold(meta, 0.5) == 0.5


def _resign(folder, meta: dict) -> None:
    """Rewrite model.json with a fresh metadata digest, as save_artifact would."""
    meta = {k: v for k, v in meta.items() if k != "meta_sha256"}
    body = json.dumps(meta, sort_keys=True, separators=(",", ":")).encode()
    meta["meta_sha256"] = hashlib.sha256(body).hexdigest()
    (folder / registry.META_FILE).write_text(json.dumps(meta))


@pytest.mark.parametrize("field, value", [("version", "2"), ("review_threshold", 0.1), ("seed", 4),
                                          ("training_data_sha256", "0" * 64)])
def test_hand_edited_metadata_is_refused(artifact, field, value):
    meta = json.loads((artifact / registry.META_FILE).read_text())
    meta[field] = value
    (artifact / registry.META_FILE).write_text(json.dumps(meta))
    with pytest.raises(registry.ArtifactError, match="was edited after it was saved"):
        registry.load_artifact(artifact)


def test_a_threshold_outside_0_1_is_refused(tmp_path, trained):
    data, model = trained
    with pytest.raises(registry.ArtifactError, match="between 0 and 1"):
        registry.save_artifact(model, tmp_path / "x", name="t", version="1", training_data_sha256="x", seed=1,
                               review_threshold=1.5)


def test_an_artifact_without_a_threshold_needs_one_given(tmp_path, trained):
    data, model = trained
    meta = registry.save_artifact(model, tmp_path / "bare", name="t", version="1", training_data_sha256="x", seed=1)
    with pytest.raises(registry.ArtifactError, match=r"--review-threshold on the command line, review_threshold= in"):
        registry.serving_threshold(meta)
    assert registry.serving_threshold(meta, 0.7) == 0.7


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
    _resign(artifact, meta)  # a consistent artifact from an old scikit-learn, not a hand edit
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
    with pytest.raises(registry.UntrustedArtifactError, match="not on the allow-list.*_shout"):
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


def test_export_from_the_registry_alias_is_what_gets_served(tmp_path, trained):
    data, model = trained
    other = tickets.build_pipeline(3).set_params(clf__C=0.05).fit(data["text"], data["label"])
    uri = registry.tracking_uri(tmp_path)
    common = dict(uri=uri, artifact_root=tmp_path / "art", experiment="t", name="clf",
                  training_data_sha256=tickets.data_hash(data))
    registry.log_and_register(model, params={"seed": 3, "C": 5}, metrics={"f1": 0.9}, alias="champion",
                              review_threshold=0.8, **common)
    registry.log_and_register(other, params={"seed": 3, "C": 0.05}, metrics={"f1": 0.7}, alias="challenger",
                              review_threshold=0.6, **common)
    meta = registry.export_artifact(uri, "clf", "champion", tmp_path / "served")
    loaded, checked = registry.load_artifact(tmp_path / "served", expected_version="1")
    assert (meta.version, meta.review_threshold, meta.seed) == ("1", 0.8, 3)
    assert meta.training_data_sha256 == tickets.data_hash(data) and meta.metrics["f1"] == 0.9
    assert meta.source["registry_version"] == 1 and meta.source["alias"] == "champion"
    assert np.array_equal(loaded.predict_proba(data["text"]), model.predict_proba(data["text"]))
    registry.set_alias(uri, "clf", "champion", 2)  # promotion: move the alias, export again
    promoted = registry.export_artifact(uri, "clf", "champion", tmp_path / "served")
    loaded, _ = registry.load_artifact(tmp_path / "served")
    assert (promoted.version, promoted.review_threshold) == ("2", 0.6)
    assert np.array_equal(loaded.predict_proba(data["text"]), other.predict_proba(data["text"]))


def test_export_refuses_what_it_cannot_vouch_for(tmp_path, trained):
    data, model = trained
    uri = registry.tracking_uri(tmp_path)
    with pytest.raises(registry.ArtifactError, match="no registry at .*does not exist"):
        registry.export_artifact(uri, "clf", "champion", tmp_path / "out")
    assert not (tmp_path / "mlflow.db").exists()
    registry.log_and_register(model, uri=uri, artifact_root=tmp_path / "art", experiment="t", name="clf",
                              params={"C": 5}, metrics={}, alias="champion")  # no seed, no data hash
    with pytest.raises(registry.ArtifactError, match=r"lacks \['training_data_sha256', 'seed'\]"):
        registry.export_artifact(uri, "clf", "champion", tmp_path / "out")
    with pytest.raises(registry.ArtifactError, match="no model 'clf' with alias 'gold'"):
        registry.export_artifact(uri, "clf", "gold", tmp_path / "out")


@pytest.mark.parametrize("challenger, champion, promote, meets, no_worse", [
    (0.90, 0.85, True, True, True),     # better and above the target
    (0.85, 0.85, True, True, True),     # equal counts as no worse
    (0.84, 0.85, False, True, False),   # above the target but worse than the champion
    (0.79, 0.70, False, False, True),   # better than a weak champion but below the target
])
def test_release_rule_needs_the_target_and_no_regression(challenger, champion, promote, meets, no_worse):
    decision = registry.release_decision(challenger, champion, target=0.80)
    assert (decision.promote, decision.meets_target, decision.no_worse_than_champion) == (promote, meets, no_worse)
    assert decision.reason.startswith("promote" if promote else "keep the champion")
    with pytest.raises(registry.ArtifactError, match="must be a number"):
        registry.release_decision(float("nan"), 0.8, 0.8)
