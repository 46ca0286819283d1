"""A subscripted model against PySD, side by side in one process (issue 10, "Speed").

The model is a scaled-up copy of the regional age-cohort model of
``tests/engine/models/regional_cohorts.mdl`` (regions x one-year cohorts; default 10 x
100, so every two-dimensional variable has 1,000 elements), written by this script into
a temporary folder: aging through a mapping of two numeric subranges, births from the
fertile subrange, deaths from a lookup of age, SMOOTH and DELAY3 on subscripts, SUM over
subranges, and two scalar macros (one with a stock).

a. one run, Euler, every variable at SAVEPER: PySD ``model.run()`` against
   ``simulate(method="euler")`` with the default backend (``auto``) and with ``numpy``
   named explicitly (target: at least 10x);
b. N parameter sets (default 1,000; three scalar constants drawn uniformly, fixed seed)
   in ONE call of our engine, four regional outputs saved, against N sequential PySD
   runs extrapolated from ``--pysd-sample`` timed runs (target: at least 300x);
c. agreement of our runs with PySD's, every saved column of every PySD run timed.

Translation (PySD) and compilation (ours) are excluded; each side is warmed up once.
Times are printed, never asserted.

    .venv/bin/python benchmarks/bench_subscripts.py [--regions 10] [--cohorts 100]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from bench_engine import Timing, fmt_time, load_average, machine_info, rel_diff

PARAMS = {"fertility multiplier": (0.8, 1.2), "productivity growth": (0.005, 0.03),
          "savings rate": (0.15, 0.25)}
SAVED = ("total population", "employment rate", "income per capita", "jobs")


def fmt_long(seconds: float) -> str:
    """Extrapolated totals: whole seconds with hours beside them, not 4.1e+04 s."""
    if seconds < 1000:
        return fmt_time(seconds)
    return f"{seconds:,.0f} s ({seconds / 3600:.1f} h)"


def _block(name: str, equation: str, units: str = "", doc: str = "") -> str:
    return f"{name}=\n\t{equation}\n\t~\t{units}\n\t~\t{doc}\n\t|\n\n"


def _numbers(values: Any) -> str:
    return ", ".join(f"{v:.6g}" for v in values)


def cohort_model(regions: int, cohorts: int, final_time: float, step: float) -> str:
    """The text of the regional cohort model with ``regions`` x ``cohorts`` elements."""
    last = cohorts - 1
    work = (round(cohorts * 0.15), round(cohorts * 0.64))  # ages 15-64 of 100
    fertile = (round(cohorts * 0.15), round(cohorts * 0.49))
    r = np.arange(regions)
    ages = (np.arange(cohorts) + 0.5) * 100 / cohorts
    text = ["{UTF-8}\n",
            ":MACRO: LOGISTIC RESPONSE(signal, midpoint, steepness)\n"
            "LOGISTIC RESPONSE = 1 / (1 + EXP(-steepness * (signal - midpoint)))\n"
            "\t~\tDmnl\n\t~\tAn S-shaped response between 0 and 1.\n\t|\n\n:END OF MACRO:\n",
            ":MACRO: EXPECTATION(signal, adjustment time, initial expectation)\n"
            "EXPECTATION = INTEG((signal - EXPECTATION) / adjustment time, "
            "initial expectation)\n\t~\tsignal\n\t~\tAdaptive expectation.\n\t|\n\n"
            ":END OF MACRO:\n",
            f"Region:\n\t(r1-r{regions})\n\t~\t\n\t~\tRegions.\n\t|\n\n",
            f"Cohort:\n\t(c0-c{last})\n\t~\t\n\t~\tAge cohorts.\n\t|\n\n",
            f"Younger:\n\t(c0-c{last - 1}) -> Older\n\t~\t\n\t~\t\n\t|\n\n",
            f"Older:\n\t(c1-c{last})\n\t~\t\n\t~\t\n\t|\n\n",
            f"Working Age:\n\t(c{work[0]}-c{work[1]})\n\t~\t\n\t~\t\n\t|\n\n",
            f"Fertile Age:\n\t(c{fertile[0]}-c{fertile[1]})\n\t~\t\n\t~\t\n\t|\n\n"]
    eqs = [
        ("Population[Region, Cohort]", "INTEG(aging in[Region, Cohort] - aging out[Region, "
         "Cohort] - deaths[Region, Cohort], initial population[Region, Cohort])", "Person"),
        ("initial population[Region, Cohort]", "base population[Region] * EXP(-age slope"
         "[Region] * cohort age[Cohort]) / cohort norm[Region]", "Person"),
        ("cohort norm[Region]", "SUM(EXP(-age slope[Region] * cohort age[Cohort!]))", ""),
        ("base population[Region]", _numbers(1e6 * (1 + 0.37 * (r % 5))), "Person"),
        ("age slope[Region]", _numbers(0.008 + 0.002 * (r % 7)), "1/Year"),
        ("cohort age[Cohort]", _numbers(ages), "Year"),
        ("cohort duration", f"{100 / cohorts:g}", "Year"),
        ("aging out[Region, Younger]", "Population[Region, Younger] / cohort duration", ""),
        (f"aging out[Region, c{last}]", "0", "Person/Year"),
        ("aging in[Region, Older]", "aging out[Region, Younger]", "Person/Year"),
        ("aging in[Region, c0]", "births[Region]", "Person/Year"),
        ("births[Region]", "SUM(Population[Region, Fertile Age!]) * fertility rate[Region]",
         "Person/Year"),
        ("fertility rate[Region]", "base fertility[Region] * fertility multiplier * "
         "fertility income effect(relative income[Region])", "1/Year"),
        ("base fertility[Region]", _numbers(0.045 + 0.004 * (r % 6)), "1/Year"),
        ("fertility multiplier", "1", "Dmnl [0.5,1.5]"),
        ("deaths[Region, Cohort]", "Population[Region, Cohort] * mortality by age(cohort "
         "age[Cohort]) * health effect[Region]", "Person/Year"),
        ("health effect[Region]", "1.3 - 0.3 * SMOOTH(relative income[Region], 10)", ""),
        ("working age population[Region]", "SUM(Population[Region, Working Age!])", ""),
        ("total population[Region]", "SUM(Population[Region, Cohort!])", "Person"),
        ("labour force[Region]", "working age population[Region] * 0.7", "Person"),
        ("jobs[Region]", "DELAY3(capital[Region] / capital per job, 1.5)", "Person"),
        ("capital per job", "120000", "$/Person"),
        ("employment[Region]", "MIN(jobs[Region], labour force[Region])", "Person"),
        ("employment rate[Region]", "employment[Region] / labour force[Region]", "Dmnl"),
        ("national employment rate", "SUM(employment[Region!]) / SUM(labour force"
         "[Region!])", "Dmnl"),
        ("capital[Region]", "INTEG(investment[Region] - capital[Region] / 20, labour force"
         "[Region] * capital per job * 0.9)", "$"),
        ("investment[Region]", "output[Region] * savings rate * LOGISTIC RESPONSE("
         "EXPECTATION(national employment rate, 3, 0.9), 0.85, 25) * 1.6", "$/Year"),
        ("savings rate", "0.2", "Dmnl"),
        ("output[Region]", "base productivity[Region] * EXP(productivity growth * Time) "
         "* employment[Region]", "$/Year"),
        ("base productivity[Region]", _numbers(30000 + 2500 * (r % 8)), "$/(Person*Year)"),
        ("productivity growth", "0.015", "1/Year"),
        ("income per capita[Region]", "output[Region] / total population[Region]", ""),
        ("relative income[Region]", "income per capita[Region] * SUM(total population"
         "[Region!]) / SUM(output[Region!])", "Dmnl"),
    ]
    text += [_block(*eq) for eq in eqs]
    text.append("fertility income effect(\n\t[(0,0)-(3,2)],(0,1.5),(0.5,1.25),(1,1),"
                "(2,0.8),(3,0.7))\n\t~\tDmnl\n\t~\t\n\t|\n\n")
    text.append("mortality by age(\n\t[(0,0)-(100,0.5)],(0,0.006),(5,0.0005),(20,0.001),"
                "(40,0.002),(60,0.01),(70,0.025),(80,0.06),(90,0.15),(100,0.35))\n"
                "\t~\t1/Year\n\t~\t\n\t|\n\n")
    for name, value in (("INITIAL TIME", 0), ("FINAL TIME", final_time),
                        ("TIME STEP", step), ("SAVEPER", 1)):
        text.append(_block(name, f"{value:g}", "Year"))
    return "".join(text)


def compare(ds: Any, frame: Any, run: int | None = None) -> float:
    """Max relative difference of every column of PySD's ``frame`` against ours."""
    from deterrence.results import to_table

    one = ds.isel(run=run) if run is not None else ds
    ours = to_table(one).set_index("Time")
    if not np.allclose(ours.index.values, frame.index.values, rtol=0, atol=1e-9):
        raise RuntimeError("the save times of the two engines differ")
    columns = [c for c in frame.columns if c in ours.columns]
    if len(columns) < len(frame.columns) // 2:
        raise RuntimeError(f"only {len(columns)} of PySD's columns found in ours")
    return max(rel_diff(ours[c].to_numpy(float), frame[c].to_numpy(float))
               for c in columns)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--regions", type=int, default=10)
    parser.add_argument("--cohorts", type=int, default=100)
    parser.add_argument("--final-time", type=float, default=20.0)
    parser.add_argument("--time-step", type=float, default=0.25)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--pysd-sample", type=int, default=3,
                        help="sequential PySD runs timed, then extrapolated to --runs")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261202)
    args = parser.parse_args(argv)
    if min(args.regions, args.runs, args.pysd_sample, args.repeat) < 1 or args.cohorts < 10:
        parser.error("--regions, --runs, --pysd-sample, --repeat must be positive and "
                     "--cohorts at least 10")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    warnings.filterwarnings("ignore", module="pysd")
    import pysd

    import deterrence

    print("Subscript benchmark: deterrence vs PySD (anchor), same process, same machine")
    for line in machine_info():
        print("  " + line)
    print(f"  load average  {load_average()} (other processes share the CPUs)")
    rows: list[tuple[str, str, str, str, str]] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "regional_cohorts_scaled.mdl"
        path.write_text(cohort_model(args.regions, args.cohorts, args.final_time,
                                     args.time_step), encoding="utf-8")
        start = time.perf_counter()
        theirs = pysd.read_vensim(str(path))
        t_translate = time.perf_counter() - start
        start = time.perf_counter()
        ours = deterrence.load(path)
        t_load = time.perf_counter() - start
        ds = ours.simulate(method="euler")  # warm-up
        elements = sum(int(np.prod([ds.sizes[d] for d in da.dims if d != "time"]))
                       for da in ds.data_vars.values())
        print(f"  model         {args.regions} regions x {args.cohorts} cohorts: "
              f"{len(ds.data_vars)} variables, {elements:,} array elements; Euler, TIME "
              f"STEP {args.time_step:g} over {args.final_time:g} years, "
              f"{ds.sizes['time']} saves; backend auto -> {ds.attrs['backend']}")
        print(f"  load (excluded): PySD read_vensim {fmt_time(t_translate)}, "
              f"deterrence.load {fmt_time(t_load)}")

        # -- a. one run, every variable --------------------------------------------
        frame = theirs.run()  # warm-up
        diff_one = compare(ds, frame)
        t_pysd, t_auto, t_numpy = Timing([], []), Timing([], []), Timing([], [])
        for _ in range(args.repeat):
            t_pysd.add(theirs.run)
            t_auto.add(lambda: ours.simulate(method="euler"), 5)
            t_numpy.add(lambda: ours.simulate(method="euler", backend="numpy"), 5)
        for label, t in (("backend auto", t_auto), ("backend numpy", t_numpy)):
            ratio = t_pysd.median / t.median
            rows.append((f"a. 1 run, all vars, {label}", fmt_time(t_pysd.median),
                         fmt_time(t.median), f"{ratio:,.1f}x",
                         ">= 10x " + ("met" if ratio >= 10 else "MISSED")))

        # -- b. an ensemble in one call against sequential PySD runs ---------------
        rng = np.random.default_rng(args.seed)
        params = {k: rng.uniform(lo, hi, args.runs) for k, (lo, hi) in PARAMS.items()}
        variables = list(SAVED)
        columns = [f"{v}[r{i}]" for v in SAVED for i in range(1, args.regions + 1)]
        ens = ours.simulate(params, method="euler", variables=variables)  # warm-up
        diff_ens = 0.0
        t_runs, t_ens_auto, t_ens_numpy = Timing([], []), Timing([], []), Timing([], [])
        for i in range(args.pysd_sample):
            one = {k: float(v[i]) for k, v in params.items()}
            run = t_runs.add(lambda one=one: theirs.run(params=one, return_columns=SAVED))
            diff_ens = max(diff_ens, compare(ens, run[columns], run=i))
        for _ in range(args.repeat):
            t_ens_auto.add(lambda: ours.simulate(params, method="euler",
                                                 variables=variables))
            t_ens_numpy.add(lambda: ours.simulate(params, method="euler",
                                                  variables=variables, backend="numpy"))
        pysd_total = sum(t_runs.samples) * args.runs / args.pysd_sample
        for label, t in (("backend auto", t_ens_auto), ("backend numpy", t_ens_numpy)):
            ratio = pysd_total / t.median
            rows.append((f"b. {args.runs:,} runs, {len(SAVED)} regional outputs, {label}",
                         fmt_long(pysd_total), fmt_time(t.median), f"{ratio:,.0f}x",
                         ">= 300x " + ("met" if ratio >= 300 else "MISSED")))
        notes.append(f"a. medians of {args.repeat} (ours: {args.repeat} x 5 calls); PySD "
                     f"best {fmt_time(t_pysd.best)}, ours best {fmt_time(t_auto.best)} "
                     f"(auto), {fmt_time(t_numpy.best)} (numpy)")
        ranges = ", ".join(f"{k} ~ U({lo:g}, {hi:g})" for k, (lo, hi) in PARAMS.items())
        notes.append(f"b. seed {args.seed}: {ranges}; saved: {', '.join(SAVED)} "
                     f"[Region]; PySD: {args.pysd_sample} sequential runs (the first sets), "
                     f"median {fmt_time(t_runs.median)} a run, x {args.runs:,}; ours per "
                     f"run {fmt_time(t_ens_auto.median / args.runs)} (auto)")

    header = ("benchmark", "PySD", "deterrence", "ratio", "target")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    rule = "  ".join("-" * w for w in widths)
    print()
    print(rule)
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
    print(rule)
    for row in rows:
        print("  ".join([row[0].ljust(widths[0])] + [c.rjust(w) for c, w in
                                                     zip(row[1:], widths[1:], strict=True)]))
    print(rule)
    for note in notes:
        print("  " + note)
    print("\nc. agreement, our Euler vs PySD (max relative difference, every column):")
    print(f"  a. single run, all variables: {diff_one:.2e}")
    print(f"  b. {args.pysd_sample} sampled runs, saved outputs: {diff_ens:.2e}")
    print(f"\nload average at the end {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
