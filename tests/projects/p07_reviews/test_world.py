"""The review world: seeded, with the hard cases and the label noise it claims, and later labels for served reviews."""

import numpy as np
import pytest

from lifecycle_lab.projects.p07_reviews import world


def test_the_same_seed_gives_the_same_reviews_and_another_seed_others():
    a, b = world.generate(seed=5, n_reviews=500), world.generate(seed=5, n_reviews=500)
    assert a.equals(b)
    assert not a["text"].equals(world.generate(seed=6, n_reviews=500)["text"])
    assert list(a.columns) == list(world.COLUMNS) and a["review_id"].is_unique


def test_every_kind_appears_in_its_share_and_sarcasm_is_always_negative():
    df = world.generate(seed=1, n_reviews=20_000)
    shares = df["kind"].value_counts(normalize=True)
    assert set(shares.index) == set(world.KINDS)
    assert (df.loc[df["kind"] == "sarcasm", "sentiment"] == "negative").all()
    assert shares["lukewarm"] == pytest.approx(0.08, abs=0.01)
    assert (df.loc[df["kind"] == "lukewarm", "stars"] == 3).all()
    assert (df["sentiment"] == "positive").mean() == pytest.approx(0.6, abs=0.015)
    # stars follow the truth loosely: 4-5 stars are positive, 1-2 negative
    assert set(df.loc[df["stars"] >= 4, "sentiment"]) == {"positive"}
    assert set(df.loc[df["stars"] <= 2, "sentiment"]) == {"negative"}


@pytest.mark.parametrize("noise", [0.0, 0.05, 0.3])
def test_label_noise_flips_that_share_of_labels_and_noisy_says_which(noise):
    df = world.generate(seed=2, n_reviews=10_000, label_noise=noise)
    flipped = df["label"] != df["sentiment"]
    assert (flipped == df["noisy"]).all()
    assert flipped.mean() == pytest.approx(noise, abs=0.012)


def test_served_traffic_has_new_products_and_corrections_are_its_truth_arriving_later():
    served = world.served_reviews(3, 2000, new_product_share=0.25)
    assert served["review_id"].str.startswith("s").all() and not served["noisy"].any()
    assert served["product"].isin(world.NEW_PRODUCTS).mean() == pytest.approx(0.25, abs=0.03)
    assert not world.generate(seed=3, n_reviews=5000)["product"].isin(world.NEW_PRODUCTS).any()
    corr = world.corrections(served, 3, share=0.6, max_delay_days=10)
    assert len(corr) / len(served) == pytest.approx(0.6, abs=0.04) and corr["review_id"].is_unique
    truth = served.set_index("review_id").loc[corr["review_id"], "sentiment"].to_numpy()
    assert (corr["corrected_label"].to_numpy() == truth).all()
    assert corr["arrives_day"].between(1, 10).all() and corr["arrives_day"].is_monotonic_increasing


def test_the_split_keeps_the_label_mix():
    df = world.generate(seed=4, n_reviews=1000)
    parts = world.stratified_split(df, 4)
    assert sum(len(p) for p in parts) == 1000
    for part in parts:
        assert (part["label"] == "positive").mean() == pytest.approx((df["label"] == "positive").mean(), abs=0.02)


@pytest.mark.parametrize("bad, name", [({"n_reviews": 0}, "n_reviews=0"), ({"label_noise": 0.6}, "label_noise=0.6"),
                                       ({"positive_share": 1.5}, "positive_share=1.5"), ({"seed": -1}, "seed=-1"),
                                       ({"kind_shares": (0.5, 0.5)}, "kind_shares=")])
def test_bad_knobs_are_refused_by_name(bad, name):
    with pytest.raises(world.ReviewConfigError, match=name):
        world.generate(**bad)
    with pytest.raises(world.ReviewConfigError, match="share=0"):
        world.corrections(world.served_reviews(1, 20), 1, share=0)
    assert np.isclose(sum(world.ReviewConfig().kind_shares), 1)
