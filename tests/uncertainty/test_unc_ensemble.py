"""Chunked ensembles: the numbers do not depend on the chunk size or on the store, every
policy meets the same futures, a killed run resumes without redoing finished chunks, and
a store of another design is refused rather than mixed."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from unc_support import POLICIES, SHORT

from deterrence import uncertainty as unc
from deterrence.analysis.summary import Metric
from deterrence.errors import ParameterError, ResourceError


def _same(a: xr.Dataset, b: xr.Dataset, names) -> None:
    for name in names:
        assert np.array_equal(a[name].transpose("policy", "run").values,
                              b[name].transpose("policy", "run").values, equal_nan=True), name


@pytest.fixture(scope="module")
def whole(model, design, metrics):
    """The ensemble as ONE chunk, in memory."""
    return unc.run_ensemble(model, design, metrics, chunk=design.n_runs, policies=POLICIES,
                            **SHORT)


def test_metrics_are_those_of_a_plain_simulation(model, design, metrics, whole):
    params = {n: design.sample[:, i] for i, n in enumerate(design.names)}
    ds = model.simulate({**params, "joint_exercise_intensity": 0.9}, **SHORT)
    exercises = whole.sel(policy="exercises")
    np.testing.assert_array_equal(exercises["survival"].values,
                                  ds["deterrence_survival"].isel(time=-1).values)
    np.testing.assert_array_equal(exercises["trust_min"].values,
                                  ds["mutual_trust"].min("time").values)
    np.testing.assert_array_equal(exercises["trust_low"].values,
                                  Metric("time_below", 0.65).of(ds["mutual_trust"]).values)
    np.testing.assert_array_equal(exercises["risk_at_5"].values,
                                  ds["adversary_risk_estimate"].sel(time=5.0).values)
    assert whole["survival"].dims == ("policy", "run")
    assert whole["trust_low"].attrs["units"] == "Year"
    # the futures are the design's rows, as coordinates
    np.testing.assert_array_equal(whole["adversary_ambition"].values, design.sample[:, 1])


def test_every_policy_meets_the_same_futures(whole):
    sq, ex = whole.sel(policy="status_quo"), whole.sel(policy="exercises")
    assert not np.array_equal(sq["survival"].values, ex["survival"].values)
    # more exercises, more credible deterrence, in every future
    assert (ex["survival"].values >= sq["survival"].values).all()


@pytest.mark.parametrize("chunk", [1, 7, 50])
def test_chunked_equals_unchunked_exactly(model, design, metrics, whole, chunk):
    ds = unc.run_ensemble(model, design, metrics, chunk=chunk, policies=POLICIES, **SHORT)
    _same(ds, whole, metrics)


def test_store_equals_in_memory_and_is_readable(model, design, metrics, whole, tmp_path):
    store = tmp_path / "metrics.zarr"
    ds = unc.run_ensemble(model, design, metrics, store=store, chunk=16, policies=POLICIES,
                          **SHORT)
    _same(ds, whole, metrics)
    reopened = xr.open_zarr(store, consolidated=False)
    assert reopened["done"].values.all()
    assert reopened.sizes["chunk"] == 4
    _same(reopened, whole, metrics)
    assert unc.Design.from_dataset(xr.Dataset({"sample": (("run", "parameter"),
                                                          design.sample)},
                                              attrs={"design": ds.attrs["design"]})
                                   ).fingerprint() == design.fingerprint()


def test_same_seed_gives_identical_results(model, uncertainties, metrics):
    a, b = (unc.run_ensemble(model, unc.sample(uncertainties, 20, "halton", seed=11),
                             metrics, chunk=6, **SHORT) for _ in range(2))
    _same(a, b, metrics)
    c = unc.run_ensemble(model, unc.sample(uncertainties, 20, "halton", seed=12), metrics,
                         chunk=6, **SHORT)
    assert not np.array_equal(a["survival"].values, c["survival"].values)


class Killed(Exception):
    pass


def test_a_killed_run_resumes_without_redoing_finished_chunks(model, design, metrics, whole,
                                                              tmp_path):
    store = tmp_path / "metrics.zarr"
    first: list[int] = []

    def kill_after_three(k: int) -> None:
        first.append(k)
        if len(first) == 3:
            raise Killed

    with pytest.raises(Killed):
        unc.run_ensemble(model, design, metrics, store=store, chunk=8, policies=POLICIES,
                         on_chunk=kill_after_three, **SHORT)
    assert xr.open_zarr(store, consolidated=False)["done"].values.sum() == 3
    second: list[int] = []
    ds = unc.run_ensemble(model, design, metrics, store=store, chunk=8, policies=POLICIES,
                          on_chunk=second.append, **SHORT)
    assert sorted(second) == sorted(set(range(7)) - set(first))  # 50 runs: 7 chunks
    _same(ds, whole, metrics)
    third: list[int] = []
    unc.run_ensemble(model, design, metrics, store=store, chunk=8, policies=POLICIES,
                     on_chunk=third.append, **SHORT)
    assert third == []  # complete: nothing is recomputed


@pytest.mark.parametrize("change", ["seed", "chunk", "metrics", "policies", "solver"])
def test_a_store_of_another_ensemble_is_refused(model, uncertainties, design, metrics,
                                                tmp_path, change):
    store = tmp_path / "metrics.zarr"
    unc.run_ensemble(model, design, metrics, store=store, chunk=25, **SHORT)
    kwargs = {"chunk": 25, **SHORT}
    other_design, other_metrics = design, metrics
    if change == "seed":
        other_design = unc.sample(uncertainties, 50, "lhs", seed=8)
    elif change == "chunk":
        kwargs["chunk"] = 10
    elif change == "metrics":
        other_metrics = dict(list(metrics.items())[:2])
    elif change == "policies":
        kwargs["policies"] = POLICIES
    else:
        kwargs["method"] = "rk4"
    with pytest.raises(unc.StoreMismatch, match="another ensemble"):
        unc.run_ensemble(model, other_design, other_metrics, store=store, **kwargs)


def test_thinned_series_are_kept_when_asked(model, design, metrics):
    ds = unc.run_ensemble(model, design, metrics, chunk=20, series=["Mutual Trust"], thin=8,
                          **SHORT)
    full = model.simulate({n: design.sample[:, i] for i, n in enumerate(design.names)},
                          variables=["mutual_trust"], **SHORT)
    series = ds["series_mutual_trust"].isel(policy=0)
    assert series.dims == ("run", "series_time")
    np.testing.assert_array_equal(ds["series_time"].values, full["time"].values[::8])
    np.testing.assert_array_equal(series.values, full["mutual_trust"].values[::8].T)


def test_memory_is_refused_before_anything_runs(model, design, metrics, tmp_path):
    store = tmp_path / "metrics.zarr"
    with pytest.raises(ResourceError, match=r"lower experiment\.chunk") as info:
        unc.run_ensemble(model, design, metrics, store=store, max_memory="1MB", **SHORT)
    assert "needs about" in str(info.value)
    assert not store.exists()
    big = unc.sample(design.uncertainties, 10**6, "mc", seed=1)
    plan = unc.chunks.make_plan(model, big, metrics, **SHORT)
    assert unc.estimate(model, plan, big, 10_000) < 4 * 2**30  # a million runs fit 4 GiB


def test_a_sampled_constant_set_by_a_policy_is_refused(model, design, metrics):
    with pytest.raises(unc.DesignError, match="sampled as uncertain"):
        unc.run_ensemble(model, design, metrics, policies={"p": {"adversary_ambition": 0.5}},
                         **SHORT)
    with pytest.raises(ParameterError, match="chunk"):
        unc.run_ensemble(model, design, metrics, chunk=0, **SHORT)


def test_recovery_is_the_analysis_definition_per_run():
    from deterrence.analysis import _dip_1d

    times = np.linspace(0, 20, 81)
    dip = np.exp(-((times - 8) / 2.0) ** 2)
    runs = np.column_stack([1 - 0.3 * dip, 1 - 0.1 * dip * (times < 9),
                            1 - 0.2 * (times > 6), np.ones_like(times)])
    got = unc.metrics.recovery(runs, times, onset=5.0)
    window = times >= 5.0
    for j in range(2):
        gap = runs[window, j][0] - runs[window, j]
        assert got[j] == pytest.approx(_dip_1d(gap, times[window], 0.9)[1])
    assert got[2] == np.inf  # falls and never recovers
    assert np.isnan(got[3])  # never falls
