"""The REST API: answers match the model (oracle: predict_proba), validation gives 422 with a message,
hostile and random input (lone surrogates included) never gives a 500 (hypothesis), metrics parse as
Prometheus text, every prediction is logged with its model and request latency, an unexpected error is
logged with its traceback, the review threshold comes from the artifact, a tampered artifact is refused,
and the real uvicorn process serves."""

import json
import logging
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import ticket_artifact
from lifecycle_lab.deployment import registry
from lifecycle_lab.projects.p01_tickets import world as tickets
from lifecycle_lab.projects.p01_tickets import api

warnings.filterwarnings("ignore", message=".*httpx2.*")


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    return ticket_artifact(tmp_path_factory.mktemp("api") / "v1", seed=6, n_tickets=400, version="7",
                           review_threshold=0.65)[0]


@pytest.fixture(scope="module")
def client(artifact, tmp_path_factory):
    from fastapi.testclient import TestClient

    log = tmp_path_factory.mktemp("log") / "predictions.jsonl"
    app = api.create_app(artifact, log_path=log, review_threshold=0.7)
    with TestClient(app, raise_server_exceptions=False) as c:
        c.log_path = log
        yield c


def test_predict_one_matches_the_model(client, artifact):
    model, _ = registry.load_artifact(artifact)
    text = "I was charged twice for my Pro plan, please refund"
    body = client.post("/predict", json={"ticket_id": "t-1", "text": text}).json()
    proba = model.predict_proba([text])[0]
    assert body["predicted_class"] == model.classes_[proba.argmax()]
    assert body["confidence"] == pytest.approx(proba.max(), abs=1e-6)
    assert body["needs_review"] == (proba.max() < 0.7)
    assert body["ticket_id"] == "t-1" and body["model_version"] == "7"
    assert sum(body["probabilities"].values()) == pytest.approx(1, abs=1e-5)


def test_predict_many_keeps_order(client, artifact):
    model, _ = registry.load_artifact(artifact)
    texts = tickets.generate(seed=1, n_tickets=20)["text"].tolist()
    body = client.post("/predict/batch", json={"tickets": [{"text": t, "ticket_id": i} for i, t in enumerate(texts)]})
    assert body.status_code == 200
    preds = body.json()["predictions"]
    assert [p["ticket_id"] for p in preds] == list(range(20))
    assert [p["predicted_class"] for p in preds] == model.predict(texts).tolist()


def test_health_and_model_info(client, artifact):
    assert client.get("/health").json() == {"status": "ok", "model_version": "7"}
    info = client.get("/model").json()
    assert info["sha256"] == registry.sha256_file(artifact / registry.MODEL_FILE)
    assert info["seed"] == 6 and info["classes"] == sorted(tickets.CLASSES)


@pytest.mark.parametrize("body, where, says", [
    ({"text": ""}, "text", "text is empty"),
    ({"text": "   \n\t"}, "text", "text is empty"),
    ({"text": "x" * 2001}, "text", "more than the limit of 2000"),
    ({"text": 42}, "text", "valid string"),
    ({"text": ["a"]}, "text", "valid string"),
    ({"text": None}, "text", "valid string"),
    ({}, "text", "Field required"),
    ({"text": "ok", "admin": True}, "admin", "Extra inputs are not permitted"),
    ({"text": "ok", "ticket_id": "z" * 201}, "ticket_id", "longer than 200"),
    ({"text": "ok", "ticket_id": 1.5}, "ticket_id", "text or a whole number, got 1.5"),
    ({"text": "a\x00b"}, "text", "NUL character"),
    ({"text": "ok", "ticket_id": "Z\x00id"}, "ticket_id", "NUL character"),
    ({"text": "ok", "ticket_id": int("9" * 401)}, "ticket_id", "a number id must lie within"),
    ({"text": "ok", "ticket_id": 2**53}, "ticket_id", "a number id must lie within"),
    ({"text": "ok", "ticket_id": True}, "ticket_id", "ticket_id"),
])
def test_invalid_input_is_a_422_naming_the_field(client, body, where, says):
    response = client.post("/predict", json=body)
    assert response.status_code == 422
    payload = response.json()
    assert payload["error"].startswith("invalid request: ") and where in payload["error"] and says in payload["error"]


def test_batch_limits(client):
    assert client.post("/predict/batch", json={"tickets": []}).status_code == 422
    too_many = {"tickets": [{"text": "hi"}] * (api.MAX_BATCH + 1)}
    response = client.post("/predict/batch", json=too_many)
    assert response.status_code == 422 and "at most 1000" in response.json()["error"]


@pytest.mark.parametrize("raw", [b"", b"{", b"\xff\xfe\x00", b"null", b"[1,2]", b"9" * 5000,
                                 b'{"text": {"$gt": ""}}', b'{"text": "a", "text": 5}'])
def test_malformed_bodies_are_refused_with_a_4xx(client, raw):
    response = client.post("/predict", content=raw, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500, response.text


@pytest.mark.parametrize("raw", [b'{"text": "<script>alert(1)</script>"}', b'{"text": "\'; DROP TABLE runs; --"}',
                                 '{"text": "\u202e\u0645\u0631\u062d\u0628\u0627 \U0001f525"}'.encode()])
def test_hostile_but_valid_text_is_answered(client, raw):
    response = client.post("/predict", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    assert response.json()["predicted_class"] in tickets.CLASSES


@pytest.mark.parametrize("path, raw, where", [
    ("/predict", b'{"text": "hello invoice", "ticket_id": "\\ud800"}', "ticket_id"),
    ("/predict", b'{"text": "\\udfff lone surrogate"}', "text"),
    ("/predict", b'{"text": "ok", "ticket_id": "a\\ud83d"}', "ticket_id"),  # half of an emoji
    ("/predict/batch", b'{"tickets": [{"text": "a", "ticket_id": "\\udfff"}]}', "tickets.0.ticket_id"),
    ("/predict/batch", b'{"tickets": [{"text": "fine"}, {"text": "\\ud800"}]}', "tickets.1.text"),
])
def test_a_lone_surrogate_is_a_422_not_a_500(client, path, raw, where):
    """A lone surrogate is valid JSON but not text: echoing it back used to fail the response with a 500."""
    before = client.log_path.read_text().count("\n") if client.log_path.exists() else 0
    response = client.post(path, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert f"{where}: " in response.json()["error"] and "not valid Unicode text" in response.json()["error"]
    after = client.log_path.read_text().count("\n") if client.log_path.exists() else 0
    assert after == before  # nothing logged for a refused request


@pytest.mark.parametrize("path", ["/predict", "/predict/batch"])
def test_a_surrogate_in_an_unknown_key_is_a_422(client, path):
    raw = b'{"text": "a", "\\ud800": 1}' if path == "/predict" else b'{"tickets": [{"text": "a", "\\ud800": 1}]}'
    response = client.post(path, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    response.json()  # the error body itself is valid UTF-8 JSON


def _post_json(client, path, body):
    """Send any JSON value, lone surrogates included: json.dumps escapes them (httpx's encoder would refuse)."""
    return client.post(path, content=json.dumps(body).encode("ascii"), headers={"content-type": "application/json"})


# every code point, surrogates included (hypothesis leaves category Cs out of text() by default)
any_char = st.characters(codec=None, exclude_categories=())
any_text = st.text(alphabet=any_char, max_size=40) | st.sampled_from(["\ud800", "a\udfff", "\ud83d", "ok"])
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                           | any_text,
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
                           max_leaves=10)
tickets_like = st.fixed_dictionaries({"text": any_text}, optional={"ticket_id": any_text | st.integers() | json_values})


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_values | st.fixed_dictionaries({"text": json_values}) | tickets_like
       | st.fixed_dictionaries({"tickets": st.lists(tickets_like | json_values, max_size=3)}))
def test_fuzzed_json_never_gives_a_500(client, body):
    for path in ("/predict", "/predict/batch"):
        response = _post_json(client, path, body)
        assert response.status_code in (200, 422), (path, body, response.text)
        if response.status_code == 200:
            assert "predicted_class" in response.text


@settings(max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=any_char, min_size=1, max_size=3000), ticket_id=st.none() | any_text)
def test_any_text_is_answered_or_refused_cleanly(client, text, ticket_id):
    response = _post_json(client, "/predict", {"text": text, "ticket_id": ticket_id})

    def utf8(value):
        try:
            value.encode("utf-8")
            return True
        except UnicodeEncodeError:
            return False

    valid = text.strip() != "" and len(text) <= 2000 and utf8(text) and "\x00" not in text
    valid = valid and (ticket_id is None or (ticket_id.strip() != "" and len(ticket_id) <= 200 and utf8(ticket_id)
                                             and "\x00" not in ticket_id))
    assert response.status_code == (200 if valid else 422), response.text
    if valid:
        assert response.json()["ticket_id"] == ticket_id


def test_every_prediction_is_logged_and_counted(client):
    from prometheus_client.parser import text_string_to_metric_families

    before = client.log_path.read_text().count("\n") if client.log_path.exists() else 0
    for text in ("my invoice is wrong", "the app crashes", "opening hours?"):
        client.post("/predict", json={"text": text})
    client.post("/predict/batch", json={"tickets": [{"text": "a refund please"}, {"text": "error 500"}]})
    lines = client.log_path.read_text().splitlines()
    assert len(lines) - before == 5
    record = json.loads(lines[-1])
    assert set(record) >= {"request_id", "model_version", "predicted_class", "confidence", "model_ms", "request_ms"}
    assert record["model_version"] == "7" and record["batch_size"] == 2
    records = [json.loads(line) for line in lines]
    for r in records[before:]:  # the request time contains the model time
        assert 0 < r["model_ms"] <= r["request_ms"]
    families = {f.name: f for f in text_string_to_metric_families(client.get("/metrics").text)}
    served = {s.labels["predicted_class"]: s.value for s in families["tickets_predictions"].samples}
    for cls in tickets.CLASSES:  # the counters agree with the log, class by class
        assert served[cls] == sum(r["predicted_class"] == cls for r in records)
    low = [s.value for s in families["tickets_low_confidence"].samples][0]
    assert low == sum(r["confidence"] < 0.7 for r in records)
    hist = {s.labels.get("le"): s.value for s in families["tickets_predict_latency_seconds"].samples
            if s.name.endswith("_bucket")}
    assert hist["+Inf"] == len({r["request_id"].split("-")[0] for r in records})  # one observation per request
    total = [s.value for s in families["tickets_predict_latency_seconds"].samples if s.name.endswith("_sum")][0]
    per_request = {r["request_id"].split("-")[0]: r["request_ms"] for r in records}
    assert total == pytest.approx(sum(per_request.values()) / 1000, abs=1e-5)  # it observes request_ms
    assert "response being ready" in families["tickets_predict_latency_seconds"].documentation
    statuses = {(s.labels["path"], s.labels["status"]) for s in families["tickets_http_requests"].samples}
    assert ("/predict", "200") in statuses


def test_the_review_threshold_comes_from_the_artifact(artifact, tmp_path):
    from fastapi.testclient import TestClient

    with TestClient(api.create_app(artifact)) as c:  # no threshold given: the artifact's 0.65
        assert c.get("/model").json()["review_threshold"] == 0.65
        body = c.post("/predict", json={"text": "hello"}).json()
        assert body["needs_review"] == (body["confidence"] < 0.65)
    model, _ = registry.load_artifact(artifact)
    registry.save_artifact(model, tmp_path / "bare", name="t", version="1", training_data_sha256="x", seed=1)
    with pytest.raises(registry.ArtifactError, match="records no review threshold"):
        api.create_app(tmp_path / "bare")
    with TestClient(api.create_app(tmp_path / "bare", review_threshold=0.8)) as c:
        assert c.get("/model").json()["review_threshold"] == 0.8


class _Broken:
    classes_ = np.array(sorted(tickets.CLASSES))

    def predict_proba(self, texts):
        raise RuntimeError("the model file was half-written")


def test_an_unexpected_error_is_a_logged_500_and_nothing_is_logged_as_served(artifact, tmp_path, monkeypatch,
                                                                                caplog):
    from fastapi.testclient import TestClient

    meta = registry.verify_artifact(artifact)
    monkeypatch.setattr(api, "load_artifact", lambda folder, expected_version=None: (_Broken(), meta))
    log = tmp_path / "p.jsonl"
    with caplog.at_level(logging.ERROR, logger="lifecycle_lab.projects.p01_tickets.api"):
        with TestClient(api.create_app(artifact, log_path=log), raise_server_exceptions=False) as c:
            response = c.post("/predict", json={"text": "hello"})
            metrics = c.get("/metrics").text
    assert response.status_code == 500 and response.json() == {"error": "internal error: RuntimeError"}
    assert "half-written" not in response.text  # internals stay in the service log
    record = [r for r in caplog.records if r.name == "lifecycle_lab.projects.p01_tickets.api"][-1]
    assert "unexpected error on POST /predict" in record.getMessage() and record.exc_info[0] is RuntimeError
    assert not log.exists()  # no prediction was served, none is logged
    assert 'tickets_http_requests_total{path="/predict",status="500"} 1' in metrics


def test_tampered_artifact_is_refused_before_serving(tmp_path, artifact):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(artifact, bad)
    data = bytearray((bad / registry.MODEL_FILE).read_bytes())
    data[100] ^= 0xFF
    (bad / registry.MODEL_FILE).write_bytes(bytes(data))
    with pytest.raises(registry.ArtifactError, match="refusing to serve"):
        api.create_app(bad)


def test_real_uvicorn_process_serves_and_logs(tmp_path, artifact):
    log = tmp_path / "served.jsonl"
    texts = tickets.generate(seed=2, n_tickets=30)["text"].tolist()
    with api.Server(artifact, log) as server:
        assert server.url.startswith("http://127.0.0.1:")
        latencies = api.load_test(server.url, texts, 40, warmup=5)
    assert len(latencies) == 40 and min(latencies) > 0
    assert server.proc.poll() is not None  # stopped
    logged = api.read_log(log)
    assert len(logged) == 45 and logged["ticket_id"].tolist()[:2] == ["load-0", "load-1"]
    with pytest.raises(ValueError, match="localhost only"):
        api.load_test("http://example.org", texts, 1)


def test_serve_command_refuses_a_tampered_artifact(tmp_path, artifact):
    import shutil
    import subprocess
    import sys

    bad = tmp_path / "bad"
    shutil.copytree(artifact, bad)
    (bad / registry.MODEL_FILE).write_bytes(b"not a model")
    done = subprocess.run([sys.executable, "-m", "lifecycle_lab", "serve", "--model", str(bad), "--port", "9"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "refusing to serve" in done.stderr and "Traceback" not in done.stderr


def test_whole_number_ids_up_to_the_json_safe_bound_are_echoed(client):
    for given, echoed in ((2**53 - 1, 2**53 - 1), (-(2**53 - 1), -(2**53 - 1)), (3064.0, 3064), (0, 0)):
        response = client.post("/predict", json={"text": "my invoice is wrong", "ticket_id": given})
        assert response.status_code == 200, response.text
        assert response.json()["ticket_id"] == echoed and type(response.json()["ticket_id"]) is int


def _validator(openapi, ref):
    """A JSON Schema validator for one component, resolving its $refs inside the OpenAPI document."""
    import jsonschema

    return jsonschema.Draft202012Validator({"$ref": ref, "components": openapi["components"]})


def test_the_published_schema_states_what_is_enforced(client):
    """The OpenAPI document is a contract: the refusals it declares are the ones the service makes."""
    import re

    openapi = client.get("/openapi.json").json()
    ticket = openapi["components"]["schemas"]["Ticket"]["properties"]
    text, ids = ticket["text"], ticket["ticket_id"]["anyOf"]
    assert (text["minLength"], text["maxLength"]) == (1, 2000)
    pattern = re.compile(text["pattern"])
    for value, ok in (("a", True), (" x ", True), ("   ", False), ("\t\n", False), ("a\x00b", False)):
        assert bool(pattern.search(value)) is ok
        assert (client.post("/predict", json={"text": value}).status_code == 200) is ok
    (as_text,) = [i for i in ids if i.get("type") == "string"]
    (as_number,) = [i for i in ids if i.get("type") == "integer"]
    assert as_text["maxLength"] == 200 and as_number["maximum"] == 2**53 - 1 == -as_number["minimum"]
    for path in ("/predict", "/predict/batch"):
        responses = openapi["paths"][path]["post"]["responses"]
        assert set(responses) == {"200", "400", "422"}
    ref = openapi["paths"]["/predict"]["post"]["responses"]["422"]["content"]["application/json"]["schema"]["$ref"]
    body_schema = _validator(openapi, ref)
    refused = [client.post("/predict", json={"text": ""}), client.post("/predict", json={"nope": 1}),
               client.post("/predict/batch", json={"tickets": [{"text": "a\x00"}]}),
               client.post("/predict", content=b"{", headers={"content-type": "application/json"})]
    assert [r.status_code for r in refused] == [422, 422, 422, 422]
    unreadable = client.post("/predict", content=b'{"text": "x", "ticket_id": ' + b"9" * 5000 + b"}",
                             headers={"content-type": "application/json"})
    assert unreadable.status_code == 400  # the body is not even JSON Python can read: declared as 400
    for response in refused + [unreadable]:
        errors = list(body_schema.iter_errors(response.json()))
        assert errors == [], (response.text, errors)


def test_schemathesis_finds_nothing_against_the_real_server(tmp_path, artifact):
    """Schemathesis (every check, positive and negative data, all phases; stateful has no links to follow
    here) against uvicorn on 127.0.0.1: the schema and the service agree and nothing is a 500."""
    import re
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    cli = Path(sys.executable).with_name("schemathesis")
    if not cli.exists():
        cli = shutil.which("schemathesis")
    assert cli, "schemathesis is in requirements.lock: install the lock"
    with api.Server(artifact, tmp_path / "served.jsonl") as server:
        done = subprocess.run([str(cli), "run", f"{server.url}/openapi.json", "--checks", "all", "--mode", "all",
                               "--max-examples", "25", "--generation-deterministic", "--no-color",
                               "--report", "junit", "--report-dir", str(tmp_path / "report")],
                              capture_output=True, text=True, timeout=600, cwd=tmp_path)
    summary = done.stdout[-3000:]
    assert done.returncode == 0, summary
    generated = re.search(r"(\d+) generated, (\d+) passed", done.stdout)
    assert generated and generated.group(1) == generated.group(2) and int(generated.group(1)) >= 100, summary
    assert "No issues found" in done.stdout


def test_concurrent_requests_each_get_their_own_answer(artifact, tmp_path):
    """40 requests in flight at once share model calls (micro-batching): each answer is still its own text's
    prediction (oracle: predict_proba on that text alone), and the log says how many texts each call held."""
    import asyncio

    import httpx

    model, _ = registry.load_artifact(artifact)
    texts = tickets.generate(seed=8, n_tickets=40)["text"].tolist()
    app = api.create_app(artifact, log_path=tmp_path / "p.jsonl", max_batch=8)

    async def main():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
            out = await asyncio.gather(*(c.post("/predict", json={"ticket_id": i, "text": t})
                                         for i, t in enumerate(texts)))
        await app.state.batcher.stop()
        return out

    responses = asyncio.run(main())
    assert [r.status_code for r in responses] == [200] * 40
    for i, r in enumerate(responses):
        body = r.json()
        proba = model.predict_proba([texts[i]])[0]
        assert body["ticket_id"] == i and body["predicted_class"] == model.classes_[proba.argmax()]
        assert body["confidence"] == pytest.approx(proba.max(), abs=1e-6)
    records = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    assert sorted(r["ticket_id"] for r in records) == list(range(40))
    assert all(1 <= r["model_batch"] <= 8 for r in records)
    # a call of k texts logs k records of model_batch k: the calls are the sum of 1 / model_batch
    assert app.state.batcher.items == 40
    assert app.state.batcher.calls == round(sum(1 / r["model_batch"] for r in records))
