"""Every parameter value notebook 00 accepts can run (issue 15, item 3).

Not whole-notebook runs: for each combination the declaration's cheap feasibility check either refuses it up
front (a ParameterError naming the parameter and the fix) or the exercise factories the notebook calls build
on the notebook's own data and accept their own reference answers. The factory `threshold_memo` is the one
that used to crash (seeds 5, 20, 24, 26 at default sizes; n_tickets=200 with urgent_share=0.05).
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from lifecycle_lab.base.params import ParameterError
from lifecycle_lab.projects import p00_start_here as project
from lifecycle_lab.projects.p00_start_here import exercises, parameters, world

SEEDS = range(40)


@pytest.fixture
def scores_once(monkeypatch):
    """The feasibility check and the test build the same scores: compute them once per combination."""
    cached = functools.lru_cache(maxsize=8)(world.urgent_ticket_scores)
    monkeypatch.setattr(parameters, "urgent_ticket_scores", cached)
    return cached


def _outcome(scores_once, **overrides):
    """The ParameterError that refuses the combination, or None after every factory built and passed its
    reference (what the notebook's cells do with the same values)."""
    try:
        P = project.PARAMETERS.check_overrides(overrides)
    except ParameterError as error:
        return error
    tickets = scores_once(P.n_tickets, P.seed, P.urgent_share)
    truth, scores = tickets.urgent.to_numpy(), tickets.score.to_numpy()
    built = [exercises.confusion_metrics(truth, (scores >= 0.5).astype(int)), exercises.f1_from_counts(),
             exercises.roc_auc(truth, scores), exercises.threshold_memo(truth, scores, P.min_precision)]
    for exercise in built:
        if exercise.reference is not None:
            assert exercise.evaluate(exercise.reference).passed, (overrides, exercise.name)
    return None


@pytest.mark.parametrize("seed", SEEDS)
def test_every_seed_runs_at_default_sizes(scores_once, seed):
    """An instructor hands each team a seed: none of the first 40 may be refused or crash."""
    assert _outcome(scores_once, seed=seed) is None


@pytest.mark.parametrize("n_tickets", [200, 1000])
@pytest.mark.parametrize("urgent_share", [0.05, 0.5])
@pytest.mark.parametrize("min_precision", [0.5, 0.99])
def test_the_bounds_of_every_size_run_or_are_refused_up_front(scores_once, n_tickets, urgent_share, min_precision):
    refused = []
    for seed in SEEDS:
        error = _outcome(scores_once, seed=seed, n_tickets=n_tickets, urgent_share=urgent_share,
                         min_precision=min_precision)
        if error is not None:
            assert "min_precision=" in str(error) or "n_tickets=" in str(error), str(error)
            assert "lower min_precision" in str(error) or "raise n_tickets" in str(error), str(error)
            refused.append(seed)
    assert len(refused) <= 4, f"{len(refused)} of 40 seeds refused: the bound is not a usable value"


def test_the_largest_accepted_size_runs_or_refuses_an_unreachable_target(scores_once):
    assert _outcome(scores_once, seed=3, n_tickets=1_000_000, urgent_share=0.05, min_precision=0.75) is None
    # with 5% of labels flipped at random, 500,000 scored tickets never reach 99% precision: refused, with advice
    error = _outcome(scores_once, seed=3, n_tickets=1_000_000, urgent_share=0.05, min_precision=0.99)
    assert isinstance(error, ParameterError) and "lower min_precision (e.g. 0.9" in str(error)


def test_the_corner_the_issue_reported_runs(scores_once):
    for seed in SEEDS:
        assert _outcome(scores_once, seed=seed, n_tickets=200, urgent_share=0.05) is None


def test_a_refusal_is_exactly_where_the_factory_would_fail(scores_once):
    """The check is tested against the factory itself: where it refuses, threshold_memo cannot be built."""
    refused = 0
    for seed in SEEDS:
        overrides = dict(seed=seed, min_precision=0.99, n_tickets=1000)
        tickets = scores_once(1000, seed, 0.2)
        truth, scores = tickets.urgent.to_numpy(), tickets.score.to_numpy()
        error = _outcome(scores_once, **overrides)
        if error is None:
            continue
        refused += 1
        assert "min_precision=0.99 cannot be reached" in str(error)
        with pytest.raises(ValueError, match="no threshold reaches precision"):
            exercises.threshold_memo(truth, scores, 0.99)
    assert refused >= 1, "no seed refused at min_precision=0.99: pick a harder combination for this test"


def test_too_few_urgent_tickets_are_refused_naming_the_sizes(monkeypatch):
    import pandas as pd

    few = pd.DataFrame({"urgent": [1, 1, 0, 0, 0, 0], "score": np.linspace(0.9, 0.1, 6)})
    monkeypatch.setattr(parameters, "urgent_ticket_scores", lambda n, seed, share: few)
    with pytest.raises(ParameterError, match=r"n_tickets=200 with urgent_share=0.05 leaves only 2 urgent"):
        project.PARAMETERS.check_overrides({"n_tickets": 200, "urgent_share": 0.05})


def test_fast_caps_the_size_and_bounds_are_enforced():
    assert project.PARAMETERS.check_overrides({"fast": True}).n_tickets == 1000
    assert project.PARAMETERS.check_overrides({"fast": True, "n_tickets": 300}).n_tickets == 300
    for bad, name in ((dict(n_tickets=199), "n_tickets=199"), (dict(urgent_share=0.6), "urgent_share=0.6"),
                      (dict(min_precision=2), "min_precision=2"), (dict(seed=-1), "seed=-1"),
                      (dict(output_dir=3), "output_dir=3")):
        with pytest.raises(ParameterError, match=name):
            project.PARAMETERS.check_overrides(bad)
