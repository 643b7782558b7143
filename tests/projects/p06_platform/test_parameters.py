"""Every parameter value notebook 06 accepts can run (the portfolio plants its four gaps on distinct models),
or is refused before anything runs."""

import pytest

from lifecycle_lab.base.params import ParameterError
from lifecycle_lab.governance import checker
from lifecycle_lab.projects import p06_platform as project
from lifecycle_lab.projects.p06_platform import platform, world

POLICY = platform.load_policy()


def _validate(**changes):
    namespace = {p.name: p.default for p in project.PARAMETERS.params.values()}
    namespace.update(changes)
    return project.PARAMETERS.validate(namespace)


@pytest.mark.parametrize("seed", range(25))
@pytest.mark.parametrize("fast", [False, True])
def test_every_seed_and_size_plants_four_gaps_the_checker_finds(seed, fast):
    for n in (8, 12):
        P = _validate(seed=seed, fast=fast, n_models=n)
        assert P.n_models == (min(n, 10) if fast else n)
        pf = world.portfolio(P.seed, P.n_models)
        assert len(pf.records) == P.n_models and len({g.model for g in pf.planted}) == 4
        table = checker.check_portfolio(POLICY, pf.records, directory=pf.directory, today=pf.today)
        assert set(zip(table.model, table.gate)) == pf.truth()


@pytest.mark.parametrize("changes, word", [({"n_models": 7}, "n_models"), ({"n_models": 13}, "n_models"),
                                           ({"horizon_years": 0}, "horizon_years"),
                                           ({"discount_rate": 0.9}, "discount_rate")])
def test_out_of_range_values_are_refused_naming_the_parameter(changes, word):
    with pytest.raises(ParameterError, match=word):
        _validate(**changes)
