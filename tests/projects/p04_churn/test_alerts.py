"""Alerts in Slack's webhook format reach a local receiver exactly once each, and are logged."""

import json
import urllib.request

import pytest

from lifecycle_lab.monitoring import alerts as al
from lifecycle_lab.monitoring import weekly
from lifecycle_lab.projects.p04_churn.operate import operate
from lifecycle_lab.projects.p04_churn.world import ChurnWorld


def test_the_receiver_gets_exactly_the_rules_new_alerts_once(tmp_path):
    world = ChurnWorld(n_weeks=34, concept_drift=False, data_bug=True, bug_week=26)
    expected = weekly.new_alerts(operate(world).timeline)
    assert len(expected) >= 1 and expected.iloc[0].week == 27  # two breaches in a row: weeks 26 and 27
    log = tmp_path / "alerts.jsonl"
    with al.LocalReceiver() as rx:
        sent = al.send_alerts(expected.to_dict("records"), rx.url, log)
        again = al.send_alerts(expected.to_dict("records"), rx.url, log)  # deduplicated
        assert again == [] and rx.received == sent and len(sent) == len(expected)
        assert all("text" in p and "week" in p["text"] for p in rx.received)
        assert "usage_hours" in rx.received[0]["text"]
        bad = urllib.request.Request(rx.url, data=json.dumps({"blocks": []}).encode(), method="POST")
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(bad, timeout=5)  # Slack refuses a body without text too
    assert len(log.read_text().splitlines()) == len(expected)


def test_an_unreachable_receiver_is_an_error_and_nothing_is_logged(tmp_path):
    with al.LocalReceiver() as rx:
        url = rx.url
    log = tmp_path / "alerts.jsonl"
    with pytest.raises(al.AlertError, match="could not deliver"):
        al.send_alerts([{"signal": "drift", "week": 3, "reason": "PSI 0.3"}], url, log)
    assert not log.exists()
    with pytest.raises(al.AlertError, match="local receiver"):
        al.send_alerts([], "http://example.com/hook", log)
