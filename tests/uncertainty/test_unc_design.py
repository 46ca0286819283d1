"""Uncertainties and designs: what a user declares is checked against the model, and the
same seed draws the same futures, recorded whole in the results."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from deterrence import uncertainty as unc
from deterrence.errors import ParameterError


def test_default_is_uniform_over_the_declared_range(model):
    (u,) = unc.resolve(model, [unc.Uncertainty("Maximum Aggression Hazard")])
    assert (u.parameter, u.distribution) == ("maximum_aggression_hazard", "uniform")
    assert u.args == pytest.approx({"loc": 0.01, "scale": 0.19})
    design = unc.sample([u], 2000, "mc", seed=1)
    assert design.sample.min() >= 0.01
    assert design.sample.max() <= 0.2
    assert stats.kstest(design.sample[:, 0], "uniform", args=(0.01, 0.19)).pvalue > 0.01


@pytest.mark.parametrize(("entry", "words"), [
    (unc.Uncertainty("Maximum Aggression Hazard", "normm"), ["unknown distribution",
                                                             "'norm'"]),
    (unc.Uncertainty("no such constant"), ["not a variable"]),
    (unc.Uncertainty("Mutual Trust"), ["not a constant"]),
    (unc.Uncertainty("Maximum Aggression Hazard", "uniform", {"loc": 0, "scale": 1}),
     ["outside the declared range", "[0.01, 0.2]"]),
    (unc.Uncertainty("Maximum Aggression Hazard", "norm", {"loc": 0.1, "scale": 0.01}),
     ["outside the declared range"]),
    (unc.Uncertainty("Maximum Aggression Hazard", "triang", {"c": 2}),
     ["not a valid distribution"]),
    (unc.Uncertainty("Maximum Aggression Hazard", "triang", {"mode": 0.2}),
     ["bad arguments", "c, loc, scale"]),
    (unc.Uncertainty("Maximum Aggression Hazard", "rv_continuous"), ["unknown distribution"]),
    (unc.Uncertainty("Maximum Aggression Hazard", "uniform", {"loc": "x"}),
     ["not a finite number"]),
])
def test_bad_uncertainties_are_refused_by_name(model, entry, words):
    with pytest.raises((unc.DesignError, ParameterError)) as info:
        unc.resolve(model, [entry])
    for word in words:
        assert word in str(info.value)


def test_a_parameter_declared_twice_is_refused(model):
    with pytest.raises(unc.DesignError, match="declared twice"):
        unc.resolve(model, [unc.Uncertainty("adversary_ambition"),
                            unc.Uncertainty("Adversary Ambition")])


@pytest.mark.parametrize("sampler", ["mc", "lhs", "sobol", "halton"])
def test_same_seed_same_futures_other_seed_others(uncertainties, sampler):
    a = unc.sample(uncertainties, 64, sampler, seed=3)
    b = unc.sample(uncertainties, 64, sampler, seed=3)
    c = unc.sample(uncertainties, 64, sampler, seed=4)
    assert np.array_equal(a.sample, b.sample)
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    assert not np.array_equal(a.sample, c.sample)
    assert a.sample.shape == (64, 3)


def test_latin_hypercube_fills_every_stratum(uncertainties):
    design = unc.sample(uncertainties, 40, "lhs", seed=5)
    first = uncertainties[0]
    u = first.frozen().cdf(design.sample[:, 0])
    assert sorted(np.floor(u * 40).astype(int)) == list(range(40))


def test_saltelli_and_morris_sizes(uncertainties):
    saltelli = unc.sample(uncertainties, 16, "saltelli", seed=1)
    assert saltelli.n_runs == unc.runs_of("saltelli", 16, 3) == 16 * 8
    first_order = unc.sample(uncertainties, 16, "saltelli", seed=1, second_order=False)
    assert first_order.n_runs == 16 * 5
    assert unc.sample(uncertainties, 5, "morris", seed=1).n_runs == 5 * 4


@pytest.mark.parametrize(("sampler", "n", "seed", "words"), [
    ("foo", 8, 1, "unknown"), ("sobol", 100, 1, "power of 2"), ("lhs", 0, 1, "positive"),
    ("lhs", 8, -1, "seed")])
def test_bad_sampler_settings(uncertainties, sampler, n, seed, words):
    with pytest.raises(unc.DesignError, match=words):
        unc.sample(uncertainties, n, sampler, seed)


def test_the_design_round_trips_through_its_dataset(design, tmp_path):
    from deterrence.results import read_results, write_results

    path = write_results(design.to_dataset(), tmp_path / "design.nc")
    back = unc.Design.from_dataset(read_results(path))
    assert back.fingerprint() == design.fingerprint()
    assert back.record() == design.record()
    assert back.record()["uncertainties"][1] == {
        "parameter": "adversary_ambition", "distribution": "beta",
        "args": {"a": 2.0, "b": 3.0}}


def test_config_entries(model):
    entries = unc.from_mapping({"adversary_ambition": None,
                                "maximum_aggression_hazard": {"distribution": "triang",
                                                              "args": {"c": 0.2, "loc": 0.01,
                                                                       "scale": 0.19}}})
    resolved = unc.resolve(model, entries)
    assert [u.distribution for u in resolved] == ["uniform", "triang"]
    with pytest.raises(unc.DesignError, match="unknown key"):
        unc.from_mapping({"adversary_ambition": {"dist": "beta"}})
