"""The ML Test Score rubric as in Breck et al. 2017: 28 tests, min of section sums, the bands."""

import pytest

from lifecycle_lab.deployment import mltestscore as m


def test_28_tests_seven_per_section():
    assert len(m.TESTS) == 28
    for section in m.SECTIONS:
        assert m.section_tests(section) == [f"{section}_{i}" for i in range(1, 8)]
    assert m.TESTS["model_5"] == "A simpler model is not better"
    assert set(m.BEGINNER_SYSTEM) == set(m.TESTS)


def _sheet(**sums):
    """A sheet whose sections sum to the given values (using 1s, then one 0.5)."""
    sheet = {}
    for section in m.SECTIONS:
        total = sums.get(section, 7)
        for i, t in enumerate(m.section_tests(section)):
            sheet[t] = 1 if i < int(total) else (0.5 if i == int(total) and total % 1 else 0)
    return sheet


def test_final_score_is_the_minimum_of_the_section_sums():
    result = m.score(_sheet(data=4, model=2.5, infrastructure=6, monitoring=3))
    assert result.sections == {"data": 4, "model": 2.5, "infrastructure": 6, "monitoring": 3}
    assert result.final == 2.5 and result.weakest == "model"


@pytest.mark.parametrize("final, start", [(0, "More of a research project"), (0.5, "Not totally untested"),
                                          (1, "Not totally untested"), (1.5, "There's been a first pass"),
                                          (2, "There's been a first pass"), (3, "Reasonably tested"),
                                          (5, "Strong levels"), (5.5, "Exceptional")])
def test_bands_follow_the_paper(final, start):
    assert m.band(final).startswith(start)
    assert m.score(_sheet(monitoring=final)).band.startswith(start) or final > 7


def test_bad_sheets_are_refused_with_the_reason():
    with pytest.raises(m.RubricError, match="0.7"):
        m.score({**_sheet(), "data_1": 0.7})
    with pytest.raises(m.RubricError, match="unknown test ids"):
        m.score({**_sheet(), "data_8": 1})
    with pytest.raises(m.RubricError, match="missing scores"):
        m.score({"data_1": 1})


def test_next_tests_raise_the_final_score_the_most():
    # beginner sheet: data 2.5, model 2, infrastructure 4.5, monitoring 2.5. To reach 3, model needs one test
    # at 0 (+1) and data and monitoring one test each (+0.5 or more); 3.5 would need model +1.5 (two tests) and
    # data, monitoring +1 each: four tests. So the best three reach 3, one from each of those sections.
    sheet = m.beginner_sheet()
    result = m.score(sheet)
    assert (result.final, result.weakest) == (2, "model")
    picks = m.next_tests(sheet)
    assert len(set(picks)) == 3 and all(sheet[t] < 1 for t in picks)
    assert sorted(t.split("_")[0] for t in picks) == ["data", "model", "monitoring"]
    assert m.final_after(sheet, picks) == 3
    assert m.final_after(sheet, ["model_2", "model_3", "model_4"]) == 2.5  # the weakest section alone: capped


def test_next_tests_stay_in_a_section_that_lags_far_behind():
    sheet = _sheet(data=7, model=7, infrastructure=7, monitoring=0)
    picks = m.next_tests(sheet)
    assert all(t.startswith("monitoring_") for t in picks) and m.final_after(sheet, picks) == 3
    assert m.next_tests(_sheet(), 3) == []  # nothing left to add
