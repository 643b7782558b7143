"""A forged model file must not run code: load_artifact trusts an exact allow-list of types, read from the
file's schema before anything is loaded.

Each forgery is written the way an attacker who can rewrite the artifact folder would: a consistent
model.skops + model.json (checksums recomputed), so only the type check stands in the way. If loading
succeeded, the test would score a payload text that creates a sentinel file; the sentinel must never appear.
"""

import builtins
import copy
import hashlib
import json
import os
import pickle
import subprocess
import sys

import pytest

from lifecycle_lab.deployment import registry
from lifecycle_lab.projects.p01_tickets import world as tickets


@pytest.fixture(scope="module")
def trained():
    data = tickets.generate(seed=3, n_tickets=300)
    return data, tickets.build_pipeline(3).fit(data["text"], data["label"])


def _touch_sentinel(texts):
    open(os.environ["LIFECYCLE_LAB_TEST_SENTINEL"], "w").close()
    return texts


class _TouchOnUnpickle:
    def __reduce__(self):
        return (open, (os.environ["LIFECYCLE_LAB_TEST_SENTINEL"], "w"))


def _with_analyzer(model, analyzer):
    forged = copy.deepcopy(model)
    forged.set_params(tfidf__words__analyzer=analyzer)
    return forged


def _forgeries(model, sentinel, script):
    """name -> (model to save, text that would trigger the payload once loaded)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    data = tickets.generate(seed=4, n_tickets=120)
    knn = make_pipeline(TfidfVectorizer(), KNeighborsClassifier(n_neighbors=3)).fit(data["text"], data["label"])
    return {
        "builtins.eval": (_with_analyzer(model, builtins.eval), f"open({str(sentinel)!r}, 'w') and ['x']"),
        "builtins.exec": (_with_analyzer(model, builtins.exec), f"open({str(sentinel)!r}, 'w')"),
        "builtins.getattr": (_with_analyzer(model, builtins.getattr), "__class__"),
        f"{os.system.__module__}.system": (_with_analyzer(model, os.system), f"touch {sentinel}"),
        "subprocess.Popen": (_with_analyzer(model, subprocess.Popen), str(script)),
        "FunctionTransformer": (make_pipeline(FunctionTransformer(func=_touch_sentinel), model), "any text"),
        "KNeighborsClassifier": (knn, "any text"),  # a scikit-learn type, but not one the workbook ships
        "sklearn.pipeline.Pipeline (MethodNode)": (_with_analyzer(model, model.predict), "any text"),
    }


def _resign(folder) -> None:
    """Recompute both checksums, as a forger who rewrites model.skops can: they prove nothing about intent."""
    meta = json.loads((folder / registry.META_FILE).read_text())
    meta["sha256"] = registry.sha256_file(folder / registry.MODEL_FILE)
    body = {k: v for k, v in meta.items() if k != "meta_sha256"}
    meta["meta_sha256"] = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    (folder / registry.META_FILE).write_text(json.dumps(meta))


@pytest.fixture
def sentinel(tmp_path, monkeypatch):
    path = tmp_path / "sentinel"
    monkeypatch.setenv("LIFECYCLE_LAB_TEST_SENTINEL", str(path))
    return path


@pytest.mark.parametrize("name", ["builtins.eval", "builtins.exec", "builtins.getattr",
                                  f"{os.system.__module__}.system", "subprocess.Popen", "FunctionTransformer",
                                  "KNeighborsClassifier", "sklearn.pipeline.Pipeline (MethodNode)"])
def test_a_forged_artifact_is_refused_and_runs_nothing(tmp_path, trained, sentinel, name):
    data, model = trained
    script = tmp_path / "payload.sh"
    script.write_text(f"#!/bin/sh\ntouch {sentinel}\n")
    script.chmod(0o755)
    forged, payload = _forgeries(model, sentinel, script)[name]
    folder = tmp_path / "forged"
    registry.save_artifact(forged, folder, name="tickets", version="1", training_data_sha256="x", seed=3,
                           review_threshold=0.5)
    registry.verify_artifact(folder)  # the checksums are consistent: they cannot catch this
    with pytest.raises(registry.UntrustedArtifactError, match="not on the allow-list") as refused:
        loaded, _ = registry.load_artifact(folder)
        loaded.predict([payload])  # only reached if the forgery loads: this is what the API would do
    assert name.split(" ")[0].split(".")[-1] in str(refused.value)  # the message names the type
    assert "nothing was loaded" in str(refused.value)
    assert not sentinel.exists()


def test_the_allow_list_is_exactly_what_the_shipped_pipeline_contains(tmp_path, trained):
    """Every type of a trained workbook pipeline is allowed (it loads), and nothing on the list is unused."""
    data, model = trained
    registry.save_artifact(model, tmp_path / "ok", name="t", version="1", training_data_sha256="x", seed=3)
    found = registry.artifact_types(tmp_path / "ok" / registry.MODEL_FILE)
    allowed = {(name, kind) for name, kinds in registry.ALLOWED_TYPES.items() for kind in kinds}
    assert found == allowed
    loaded, _ = registry.load_artifact(tmp_path / "ok")
    assert list(loaded.predict(data["text"][:20])) == list(model.predict(data["text"][:20]))
    assert not any(name.endswith(".") for name in registry.ALLOWED_TYPES)  # exact names, never prefixes


def test_a_pickle_posing_as_model_skops_is_refused_without_unpickling(tmp_path, trained, sentinel):
    data, model = trained
    folder = tmp_path / "pickled"
    registry.save_artifact(model, folder, name="t", version="1", training_data_sha256="x", seed=3,
                           review_threshold=0.5)
    (folder / registry.MODEL_FILE).write_bytes(pickle.dumps(_TouchOnUnpickle()))
    _resign(folder)
    with pytest.raises(registry.UntrustedArtifactError, match="not a skops file.*pickle"):
        registry.load_artifact(folder)
    assert not sentinel.exists()
    (folder / registry.MODEL_FILE).write_bytes(b"PK\x03\x04 a truncated zip")
    _resign(folder)
    with pytest.raises(registry.UntrustedArtifactError, match="not a"):
        registry.load_artifact(folder)


@pytest.mark.parametrize("command", ["serve", "batch"])
def test_the_commands_print_the_refusal_not_a_traceback(tmp_path, trained, command):
    data, model = trained
    folder = tmp_path / "pickled"
    registry.save_artifact(model, folder, name="t", version="1", training_data_sha256="x", seed=3,
                           review_threshold=0.5)
    (folder / registry.MODEL_FILE).write_bytes(pickle.dumps({"not": "a model"}))
    _resign(folder)
    tickets.unlabelled(data.head(5)).to_csv(tmp_path / "in.csv", index=False)
    args = {"serve": ["serve", "--model", str(folder), "--port", "1", "--log", str(tmp_path / "log.jsonl")],
            "batch": ["batch", str(tmp_path / "in.csv"), "--model", str(folder), "--create-db",
                      "--db", f"sqlite:///{tmp_path / 'p.db'}", "--runs-ledger", str(tmp_path / "ledger.jsonl")]}
    done = subprocess.run([sys.executable, "-m", "lifecycle_lab.cli", *args[command]], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert done.returncode == 1, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"lifecycle-lab {command}: ") and "refusing to load" in last and "not a skops file" in last
    assert "Traceback" not in done.stderr


def test_a_forged_model_in_the_registry_is_refused_on_export_and_load(tmp_path, trained, sentinel):
    """MLflow records the skops types to trust next to the model (log_and_register lists eval there, as it
    would for anything): the registry path applies the same allow-list instead of trusting that record."""
    data, model = trained
    uri = registry.tracking_uri(tmp_path)
    registry.log_and_register(_with_analyzer(model, builtins.eval), uri=uri, artifact_root=tmp_path / "art",
                              experiment="t", name="clf", params={"seed": 3}, metrics={}, alias="champion",
                              training_data_sha256="x", review_threshold=0.5)
    with pytest.raises(registry.UntrustedArtifactError, match=r"builtins\.eval"):
        registry.export_artifact(uri, "clf", "champion", tmp_path / "served")
    assert not (tmp_path / "served").exists()
    with pytest.raises(registry.UntrustedArtifactError, match=r"builtins\.eval"):
        registry.load_registered(uri, "clf", "champion").predict([f"open({str(sentinel)!r}, 'w') and ['x']"])
    assert not sentinel.exists()


@pytest.mark.parametrize("param, value", [("tfidf__words__input", "filename"), ("tfidf__chars__input", "file"),
                                          ("tfidf__words__token_pattern", r"(a+)+$"), ("memory", "/tmp"),
                                          ("tfidf__words__analyzer", "char_wb ")])
def test_allowed_types_with_a_dangerous_parameter_are_refused(tmp_path, trained, param, value):
    """Only allowed types, but told to open each text as a file path, to backtrack (ReDoS) or to write."""
    data, model = trained
    forged = copy.deepcopy(model)
    forged.set_params(**{param: value})
    secret = tmp_path / "secret.txt"
    secret.write_text("billing refund invoice " * 50)
    registry.save_artifact(forged, tmp_path / "forged", name="t", version="1", training_data_sha256="x", seed=3)
    assert registry.artifact_types(tmp_path / "forged" / registry.MODEL_FILE) <= {
        (name, kind) for name, kinds in registry.ALLOWED_TYPES.items() for kind in kinds}  # types pass
    with pytest.raises(registry.UntrustedArtifactError, match=f"{param.split('__')[-1]}="):
        loaded, _ = registry.load_artifact(tmp_path / "forged")
        loaded.predict([str(secret)])
