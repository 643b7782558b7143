"""The ticket scenario and CSV loading: byte-identical snapshot, the knobs do what they say, clear errors."""

import csv
import hashlib
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.dummy import DummyClassifier
from sklearn.metrics import f1_score

from lifecycle_lab.base import paths
from lifecycle_lab.projects.p01_tickets.exercises import KEYWORD_CASES, _schema_cases
from lifecycle_lab.projects.p01_tickets import schema as csvload
from lifecycle_lab.projects.p01_tickets import world as tickets


def test_shipped_snapshot_regenerates_byte_for_byte(tmp_path):
    shipped = (paths.DATASETS / "tickets.csv").read_bytes()
    digest = tickets.write_snapshot(tmp_path / "again.csv")
    assert (tmp_path / "again.csv").read_bytes() == shipped
    assert digest == hashlib.sha256(shipped).hexdigest()
    sheet = (paths.DATASETS / "tickets.datasheet.md").read_text()
    assert digest in sheet, "the datasheet states the snapshot's sha256"
    for group in ("Motivation", "Composition", "Collection process", "Preprocessing", "Uses", "Distribution",
                  "Maintenance"):
        assert f"## {group}" in sheet
    data = pd.read_csv(paths.DATASETS / "tickets.csv")
    counts = data["label"].value_counts()
    for cls in tickets.CLASSES:  # the counts the datasheet states are the file's counts
        assert f"{cls} {counts[cls]}" in sheet


def test_same_seed_same_rows_other_seed_other_rows():
    a, b = tickets.generate(seed=3, n_tickets=300), tickets.generate(seed=3, n_tickets=300)
    pd.testing.assert_frame_equal(a, b)
    assert not tickets.generate(seed=4, n_tickets=300)["text"].equals(a["text"])
    assert list(a.columns) == list(tickets.COLUMNS) and a["ticket_id"].is_unique


def test_class_mix_and_label_noise_follow_the_knobs():
    n = 4000
    data = tickets.generate(seed=11, n_tickets=n, label_noise=0.1)
    clean = tickets.true_labels(seed=11, n_tickets=n, label_noise=0.1)
    flipped = (data["label"].to_numpy() != clean)
    # binomial test: the flip rate is consistent with 10%
    assert stats.binomtest(int(flipped.sum()), n, 0.1).pvalue > 0.001
    counts = pd.Series(clean).value_counts().reindex(tickets.CLASSES).to_numpy()
    assert stats.chisquare(counts, np.array([0.45, 0.35, 0.20]) * n).pvalue > 0.001
    assert (tickets.generate(seed=11, n_tickets=500, label_noise=0.0)["label"].to_numpy()
            == tickets.true_labels(seed=11, n_tickets=500)).all()


def test_tickets_are_messy_typos_mixed_topics_timestamps():
    data = tickets.generate(seed=5, n_tickets=2000)
    assert data["text"].str.contains("Also, ").mean() == pytest.approx(0.12, abs=0.03)
    assert data["text"].nunique() > 1500  # many phrasings, not a handful of templates
    stamps = pd.to_datetime(data["created_at"])
    assert stamps.dt.normalize().is_monotonic_increasing and stamps.min() >= pd.Timestamp("2026-01-05")
    assert stamps.dt.hour.between(8, 18).mean() > 0.8  # office hours mostly


def test_drift_brings_new_products_and_more_technical_tickets():
    base = tickets.generate(seed=2, n_tickets=1500)
    later = tickets.generate(seed=2, n_tickets=1500, drift=1.0)
    pattern = "|".join(re.escape(p) for p in tickets.NEW_PRODUCTS)
    assert not base["text"].str.contains(pattern).any()
    assert later["text"].str.contains(pattern).mean() > 0.2
    table = [[(base["label"] == c).sum() for c in tickets.CLASSES], [(later["label"] == c).sum() for c in tickets.CLASSES]]
    assert stats.chi2_contingency(table).pvalue < 1e-6
    assert (later["label"] == "Technical Issue").mean() > (base["label"] == "Technical Issue").mean() + 0.1


@pytest.mark.parametrize("bad, word", [({"n_tickets": 0}, "n_tickets"), ({"label_noise": 0.7}, "label_noise"),
                                       ({"drift": 2}, "drift"), ({"class_shares": (0.5, 0.5, 0.5)}, "class_shares"),
                                       ({"seed": -1}, "seed")])
def test_bad_knobs_are_refused_by_name(bad, word):
    with pytest.raises(tickets.TicketConfigError, match=word):
        tickets.generate(**bad)


def test_stratified_split_keeps_the_class_mix():
    data = tickets.generate(seed=8, n_tickets=1000)
    train, val, test = tickets.stratified_split(data, 8)
    assert len(train) + len(val) + len(test) == 1000
    assert set(train["ticket_id"]).isdisjoint(test["ticket_id"]) and set(val["ticket_id"]).isdisjoint(test["ticket_id"])
    whole = data["label"].value_counts(normalize=True)
    for part in (train, val, test):
        assert (part["label"].value_counts(normalize=True) - whole).abs().max() < 0.01


def test_keyword_rule_matches_the_hand_labelled_cases():
    for case in KEYWORD_CASES:
        assert tickets.keyword_rule(*case.args) == case.expected, case.why


def test_model_beats_both_baselines_on_another_seed():
    data = tickets.generate(seed=7, n_tickets=1000)
    train, val, test = tickets.stratified_split(data, 7)
    model = tickets.build_pipeline(7).fit(train["text"], train["label"])
    f1 = lambda pred: f1_score(test["label"], pred, average="macro")  # noqa: E731
    dummy = DummyClassifier(strategy="most_frequent").fit(train["text"], train["label"]).predict(test["text"])
    rules = [tickets.keyword_rule(t) for t in test["text"]]
    assert f1(model.predict(test["text"])) > f1(rules) + 0.05 > f1(dummy) + 0.05


# -- CSV loading with schema validation -----------------------------------------------------------------

def _write(tmp_path, frame, name="mine.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def test_own_csv_loads_when_valid(tmp_path):
    frame = tickets.generate(seed=1, n_tickets=50)
    loaded = csvload.load_csv(_write(tmp_path, frame), csvload.ticket_schema())
    assert len(loaded) == 50 and loaded["text"].tolist() == frame["text"].tolist()


def test_missing_column_is_named(tmp_path):
    frame = tickets.generate(seed=1, n_tickets=10).rename(columns={"label": "category"})
    with pytest.raises(csvload.SchemaError, match=r"lacks column\(s\) \['label'\].*found.*category"):
        csvload.load_csv(_write(tmp_path, frame), csvload.ticket_schema())


def test_bad_rows_are_named_with_their_number_and_reason(tmp_path):
    frame = tickets.generate(seed=1, n_tickets=10)
    frame.loc[2, "text"] = ""
    frame.loc[6, "label"] = "Sales"
    frame.loc[8, "ticket_id"] = frame.loc[7, "ticket_id"]
    with pytest.raises(csvload.SchemaError) as err:
        csvload.load_csv(_write(tmp_path, frame), csvload.ticket_schema())
    message = str(err.value)
    assert "3 row(s)" in message and "data row 3 (line 4): text is empty" in message
    assert "data row 7 (line 8): label 'Sales' is not one of" in message and "data row 9 (line 10): ticket_id" in message


def test_the_line_number_follows_texts_that_span_lines(tmp_path):
    frame = tickets.generate(seed=1, n_tickets=6)
    frame.loc[1, "text"] = "first line\nsecond line\nthird line"  # quoted in the CSV: 3 lines for one row
    frame.loc[4, "label"] = "Sales"
    path = _write(tmp_path, frame)
    lines = path.read_text().splitlines()
    assert lines[7].startswith(frame.loc[4, "ticket_id"])  # oracle: the file itself, line 8
    with pytest.raises(csvload.SchemaError, match=r"data row 5 \(line 8\): label 'Sales'"):
        csvload.load_csv(path, csvload.ticket_schema())
    with pytest.raises(csvload.SchemaError, match=r"data row 5: label"):  # a frame has no lines
        csvload.validate(frame, csvload.ticket_schema())


def test_a_huge_field_is_a_schema_error_naming_the_row(tmp_path):
    frame = tickets.generate(seed=1, n_tickets=5)
    frame.loc[2, "text"] = "x" * 200_000  # larger than the csv module's default field limit (131,072 characters)
    before = csv.field_size_limit(131_072)  # process-wide: as in a fresh process, whatever ran before
    try:
        with pytest.raises(csvload.SchemaError,
                           match=r"data row 3 \(line 4\): text has 200000 characters, more than the limit"):
            csvload.load_csv(_write(tmp_path, frame), csvload.ticket_schema())
    finally:
        csv.field_size_limit(before)


@pytest.mark.parametrize("value, ok", [("2026-01-05T09:30:00", True), ("2026-01-05", True), (" 2026-01-05 09:30 ", True),
                                       ("2026-01-05T09:30:00+01:00", True), ("now", False), ("today", False),
                                       ("last tuesday", False), ("2026-13-01", False), ("5 Jan 2026", False)])
def test_timestamps_are_iso_8601_only(value, ok):
    from datetime import datetime

    column = csvload.ticket_schema().column("created_at")
    assert (csvload.check_value(column, value) is None) == ok
    assert csvload.check_value(column, datetime(2026, 1, 5)) is None


@pytest.mark.parametrize("name", ["text", "ticket_id"])
def test_a_lone_surrogate_is_not_text(name):
    column = csvload.ticket_schema().column(name)
    problem = csvload.check_value(column, "ok \ud800")
    assert problem == f"{name} is not valid Unicode text: it holds a lone surrogate at character 4 (send UTF-8 text)"
    assert csvload.check_value(column, "ok \U0001f525 \u202e") is None  # a real emoji and a control char are text


def test_own_csv_without_created_at_loads(tmp_path):
    frame = tickets.generate(seed=2, n_tickets=30).drop(columns=["created_at"])
    loaded = csvload.load_csv(_write(tmp_path, frame), csvload.ticket_schema())
    assert list(loaded.columns) == ["ticket_id", "text", "label"] and len(loaded) == 30


def test_nightly_batches_carry_the_stated_faults():
    nights = tickets.nightly_batches(42, n_nights=5, size_range=(250, 350), short_night=4)
    again = tickets.nightly_batches(42, n_nights=5, size_range=(250, 350), short_night=4)
    assert [n.name for n in nights] == [f"night_{i}.csv" for i in range(1, 6)]
    for a, b in zip(nights, again):
        pd.testing.assert_frame_equal(a.frame, b.frame)
    schema = csvload.ticket_schema(labelled=False)
    for i, night in enumerate(nights):  # oracle for the bad rows: the schema's own row check
        reasons = [csvload.check_row(schema, row) for row in night.frame.to_dict("records")]
        bad = [r for r in reasons if r]
        if i == 2:
            assert sorted(bad) == ["text has 2500 characters, more than the limit of 2000", "text is empty",
                                   "text is empty"] and night.fault
        else:
            assert bad == []
        assert len(night.frame) == 40 if i == 4 else 250 <= len(night.frame) < 350
        assert "label" not in night.frame
    ids = pd.concat([n.frame["ticket_id"] for n in nights])
    assert ids.is_unique
    with pytest.raises(tickets.TicketConfigError, match="n_nights"):
        tickets.nightly_batches(1, n_nights=2)
    with pytest.raises(tickets.TicketConfigError, match="short_night"):
        tickets.nightly_batches(1, n_nights=5, short_night=2)


def test_second_topic_marker_finds_the_generators_mixed_tickets():
    # oracle: the generator's own knob; typos off so none hides the marker
    mixed = tickets.generate(seed=3, n_tickets=300, mixed_rate=1.0, typo_rate=0.0)
    plain = tickets.generate(seed=3, n_tickets=300, mixed_rate=0.0, typo_rate=0.0)
    assert tickets.mentions_second_topic(mixed["text"]).all()
    assert not tickets.mentions_second_topic(plain["text"]).any()
    assert (mixed["text"] == mixed["text"].str.lower()).any()  # all-lower-case tickets are among those found


def test_unreadable_or_missing_file_is_a_schema_error(tmp_path):
    with pytest.raises(csvload.SchemaError, match="does not exist"):
        csvload.load_csv(tmp_path / "nope.csv", csvload.ticket_schema())
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(csvload.SchemaError):
        csvload.load_csv(tmp_path / "bin.csv", csvload.ticket_schema())


def test_check_row_agrees_with_the_exercise_cases():
    schema = csvload.ticket_schema()
    for case in _schema_cases():
        got = csvload.check_row(schema, *case.args)
        assert (got is None) == (case.expected is None), (case.why, got)
