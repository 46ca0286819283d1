"""The ``deterrence`` command line: simulate, info, plot, summary, export, run
(experiments), diagram.

Errors a user can fix print as one line (``error: file:line: what ... (what to do)``)
and exit with status 2; the operating system's (a folder that cannot be written, a full
disk) as one line naming the file, with status 1; anything else is a bug and keeps its
traceback. Ctrl-C exits with status 130 and no traceback (a file being written is left
as it was); a closed pipe (``| head``) ends the output quietly.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from . import __version__, integrate
from .compile import kernel_cache
from .errors import ModelError, ModelWarning, ParameterError
from .files import WriteError
from .integrate import SolverOptions

EXIT_USER_ERROR = 2
EXIT_OS_ERROR = 1
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports it


def _parse_set(items: Sequence[str]) -> dict[str, float | list[float]]:
    """``"Name=value"`` or ``"Name=v1,v2,..."`` (an ensemble along ``run``)."""
    params: dict[str, float | list[float]] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ParameterError(f"--set {item!r}: expected \"Name=value\", e.g. "
                                 "--set \"Contact Infectivity=0.4\"")
        try:
            values = [float(v) for v in value.split(",")]
        except ValueError:
            raise ParameterError(f"--set {item!r}: {value!r} is not a number (or a "
                                 "comma-separated list of numbers)") from None
        params[name.strip()] = values[0] if len(values) == 1 else values
    return params


def _crossed(params: dict[str, float | list[float]]) -> dict[str, float | list[float]]:
    """Every combination of the listed values, one run each (the first list varies
    slowest), so ``--set a=1,2 --set b=3,4,5`` is six runs, as a grid is."""
    import itertools

    lists = {k: v for k, v in params.items() if isinstance(v, list)}
    if len(lists) < 2:
        return params
    grid = list(itertools.product(*lists.values()))
    crossed: dict[str, float | list[float]] = dict(params)
    for i, name in enumerate(lists):
        crossed[name] = [combo[i] for combo in grid]
    return crossed


def _cmd_simulate(args: argparse.Namespace) -> int:
    from .engines import load
    from .results import write_results

    seed = _seed(args.seed, args.engine)
    model = load(args.model, engine=args.engine)
    params = _parse_set(args.set)
    if not args.zip:
        params = _crossed(params)
    if not args.allow_out_of_range:
        model.check_ranges(params)  # as deterrence run does
    declared = args.method is None
    method = model.declared_method.require(model.path) if declared else args.method
    try:
        solver = SolverOptions.from_mapping({**vars(args), "method": method, "seed": seed})
    except ParameterError as exc:  # a bad option, named with the model's file
        raise ParameterError(exc.message, path=model.path, hint=exc.hint) from None
    ds = model.simulate(
        params, solver=solver, time_step=args.time_step, saveper=args.saveper,
        initial_time=args.initial_time, final_time=args.final_time,
        max_memory=args.max_memory, max_steps=args.max_steps,
    )
    ds.attrs["method_source"] = model.declared_method.source if declared else \
        f"{solver.method}: --method"
    if args.output:
        path = write_results(ds, args.output)
        print(f"wrote {path} ({ds.sizes.get('time', 0)} times, {len(ds.data_vars)} variables"
              f"{', ' + str(ds.sizes['run']) + ' runs' if 'run' in ds.sizes else ''})")
    else:
        _print_final(model, ds, f", seed {seed}" if args.seed is not None else "")
    return 0


def _seed(text: str | None, engine: str) -> int:
    """``--seed N``: a whole number >= 0 (checked before the model is read); PySD's
    runner draws its own random numbers, so it is refused there rather than ignored."""
    if text is None:
        return SolverOptions.seed
    if engine == "pysd":
        raise ParameterError("--seed: engine pysd draws PySD's own random numbers, "
                             "which a seed here cannot fix", hint="drop --seed, or use "
                             "the compiled engine (the default)")
    value = text.strip()
    if not (value.isascii() and value.isdigit()):  # -1, 1.5, x: refused
        raise ParameterError(f"--seed {text}: expected a whole number >= 0",
                             hint="e.g. --seed 42; the same seed gives the same draws")
    return int(value)


def _print_final(model, ds, seed: str = "") -> None:
    import numpy as np

    t_end = float(ds["time"].values[-1])
    print(f"{model.name}: {ds.attrs['method']}, {len(ds['time'])} saved times{seed}; "
          f"stocks at time {t_end:g}:")
    for py_name, var in model.stocks.items():
        values = ds[py_name].isel(time=-1).values
        text = f"{float(values):.6g}" if values.ndim == 0 else (
            f"min {values.min():.6g}, median {float(np.median(values)):.6g}, "
            f"max {values.max():.6g}")
        print(f"  {var.name} = {text} {var.units}".rstrip())
    print("(use --output results.nc or results.csv to keep every variable)")


def _cmd_info(args: argparse.Namespace) -> int:
    from .engines import load

    model = load(args.model, engine=args.engine)
    print(f"{model.path}")
    print(f"sha256 {model.sha256}")
    groups = (("Stocks", model.stocks), ("Flows", model.flows),
              ("Auxiliaries", model.auxiliaries), ("Constants", model.constants),
              ("Lookups", {k: v for k, v in model.variables.items() if v.kind == "lookup"}),
              ("Control", model.controls))
    for title, variables in groups:
        if not variables:
            continue
        print(f"\n{title} ({len(variables)}):")
        for var in variables.values():
            extra = ""
            if var.default is not None:
                extra += f" = {var.default:g}"
            if var.limits != (None, None):
                lo, hi = ("?" if v is None else f"{v:g}" for v in var.limits)
                extra += f"  range [{lo}, {hi}]"
            units = f" [{var.units}]" if var.units else ""
            print(f"  {var.name}{units}{extra}")
    return 0


def _cmd_diagram(args: argparse.Namespace) -> int:
    from . import structure
    from .model import load

    model = load(args.model)
    out = args.out or Path(args.model).with_name(Path(args.model).stem + "_structure.png")
    path, loops = structure.write(model, out, args.max_loop)
    print(f"wrote {path}")
    if args.loops:
        print(f"feedback loops among stocks (up to {args.max_loop} stocks):")
        for loop in loops:
            print(f"  {loop.polarity}  {loop.describe()}")
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    path = plot_from_args(args)
    print(f"wrote {path}")
    return 0


def _cmd_summary(args: argparse.Namespace) -> int:
    from .analysis import summary

    table = summary.summary_of(args.results, args.metric, args.vars, args.by,
                               baseline=args.baseline, quantiles=args.quantiles)
    table = summary.select_rows(table, args.sel)
    print(summary.format_table(table))
    if args.out:
        print(f"wrote {summary.write_table(table, args.out)}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from .analysis import summary
    from .results import read_results

    ds = read_results(args.results)
    print(f"wrote {summary.export(ds, args.out, args.vars)}")
    return 0


def _add_table_commands(sub: argparse._SubParsersAction) -> None:
    """``summary`` (a table of outcome metrics) and ``export`` (the series, long form)."""
    from .analysis.summary import EXPORT_SUFFIXES, METRIC_HELP, TABLE_SUFFIXES

    table = sub.add_parser(
        "summary", help="a table of outcome metrics per scenario, policy or swept value",
        description="One row per label of the swept dimensions (scenario, policy, levers), "
        "one column per variable with its units; an ensemble's runs are averaged. Of an "
        "uncertainty run (its folder, metrics.zarr or results.nc): one row per policy and "
        "per-run metric, with the nominal run, the mean and 5th/50th/95th percentiles "
        "over the futures and the shares meeting the run's failure and satisficing "
        "conditions.")
    table.add_argument("results", metavar="RESULTS", type=Path,
                       help="results file (.nc), or an uncertainty run's folder or "
                       "metrics.zarr")
    table.add_argument("--metric", default=None,
                       help=f"{METRIC_HELP} (default: final; not for per-run metrics)")
    table.add_argument("--vars", nargs="+", metavar="VAR", default=None,
                       help="variables, or an ensemble's metrics (space- or "
                       "comma-separated); default: the key outputs, else every variable")
    table.add_argument("--by", nargs="+", metavar="DIM", default=None,
                       help="dimensions of the rows; default: every swept dimension")
    table.add_argument("--sel", action="append", default=[], metavar="DIM=LABEL",
                       help="keep the rows of one label, e.g. --sel scenario=leadership_change")
    table.add_argument("--baseline", metavar="LABEL", default="baseline",
                       help="the scenario the recovery metric compares with "
                       "(default: baseline)")
    table.add_argument("--quantiles", metavar="P,P,...", default=None,
                       help="an uncertainty run's percentiles over the futures "
                       "(default: 5,50,95)")
    table.add_argument("--out", metavar="FILE", type=Path, default=None,
                       help="also write the table: " + ", ".join(TABLE_SUFFIXES))
    table.set_defaults(func=_cmd_summary)

    export = sub.add_parser(
        "export", help="the time series as a table (CSV, Excel, Parquet)",
        description="One row per saved time and label (scenario, policy, swept values, "
        "run), one column per variable; constants repeat on every row.")
    export.add_argument("results", metavar="RESULTS.nc", type=Path, help="results file")
    export.add_argument("--out", metavar="FILE", type=Path, required=True,
                        help="the table: " + ", ".join(EXPORT_SUFFIXES))
    export.add_argument("--vars", nargs="+", metavar="VAR", default=None,
                        help="variables to export; default: every variable")
    export.set_defaults(func=_cmd_export)


def add_plot_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Register the ``deterrence plot`` options on ``parser`` (see :func:`plot_from_args`)."""
    from .plot import DEFAULT_BASELINE, DEFAULT_BY, DEFAULT_KIND, KIND_HELP, KINDS, REDUCTIONS

    parser.add_argument("results", metavar="RESULTS", type=Path,
                        help="results file (.nc), an uncertainty run's metrics.zarr, "
                        "sensitivity.nc, prim.csv or robustness.csv, or a run folder")
    parser.add_argument(
        "--vars",
        nargs="+",
        metavar="VAR",
        default=None,
        help="variables to draw (space- or comma-separated); default: the key outputs",
    )
    parser.add_argument(
        "--by",
        metavar="DIM",
        default=None,
        help=f"dimension drawn as one line per label; default: {DEFAULT_BY!r} or the only "
        "swept dimension",
    )
    parser.add_argument(
        "--baseline",
        metavar="LABEL",
        default=None,
        help="label drawn as the baseline and subtracted by --kind diff; "
        f"default: {DEFAULT_BASELINE!r}",
    )
    parser.add_argument(
        "--kind",
        choices=KINDS,
        default=None,
        help="; ".join(f"{k}: {v}" for k, v in KIND_HELP.items()) + ". Default: from "
        "what the file holds: " + ", ".join(f"{DEFAULT_KIND[k]} for {v}" for k, v in (
            ("series", "time series"), ("indices", "sensitivity.nc"),
            ("metrics", "per-run metrics"), ("prim", "prim.csv"),
            ("robustness", "robustness.csv"))) + " (a run folder: its metrics.zarr, "
        "else its combined.nc or results.nc)",
    )
    parser.add_argument(
        "--out",
        metavar="FILE",
        type=Path,
        default=None,
        help="output .png, .svg or .pdf; default: RESULTS_<kind>.png beside the results",
    )
    parser.add_argument(
        "--sel",
        action="append",
        default=[],
        metavar="DIM=LABEL",
        help="keep one label of another swept dimension, e.g. --sel scenario=baseline",
    )
    parser.add_argument("--x", metavar="DIM", default=None, help="map: lever on the x axis")
    parser.add_argument("--y", metavar="DIM", default=None, help="map: lever on the y axis")
    parser.add_argument(
        "--outcome", metavar="VAR", default=None,
        help="map: variable shown as colour; outcomes, tornado: the metric drawn "
        "(default: the run's failure metric, else the first)",
    )
    parser.add_argument("--box", metavar="N", type=int, default=None,
                        help="prim_box: the box of PRIM's trajectory drawn (default: the "
                        "chosen one)")
    parser.add_argument(
        "--reduce",
        choices=REDUCTIONS,
        default="final",
        help="map: how time becomes one number per cell (default: final)",
    )
    return parser


def plot_from_args(args: argparse.Namespace) -> Path:
    """Draw and save the figure the options of :func:`add_plot_arguments` describe."""
    from .plot import plot_command

    return plot_command(
        args.results,
        args.vars,
        args.by,
        args.baseline,
        args.out,
        args.kind,
        x=args.x,
        y=args.y,
        outcome=args.outcome,
        reduce=args.reduce,
        sel=args.sel,
        box=args.box,
    )


def _add_engine(parser: argparse.ArgumentParser) -> None:
    from .engines import DEFAULT, ENGINES

    parser.add_argument("--engine", choices=list(ENGINES), default=DEFAULT,
                        help="compiled (the default: batched NumPy/numba code) or pysd "
                        "(PySD's own runner, the explicit fallback for a model the compiled "
                        "engine refuses; euler only)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deterrence",
        description="Simulate Vensim/XMILE system-dynamics models (batched NumPy engine), "
        "run policy experiments and plot them.",
    )
    parser.add_argument("--version", action="version", version=f"deterrence {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sim = sub.add_parser("simulate", help="simulate a model file",
                         description="Simulate a Vensim (.mdl) or XMILE model.")
    sim.add_argument("model", help="model file (.mdl, .xmile, .xml, .stmx)")
    sim.add_argument("--method", default=None,
                     help=f"{' or '.join(integrate.fixed_methods())} (Vensim semantics, TIME "
                     "STEP), or a solve_ivp method: "
                     f"{', '.join(integrate.adaptive_methods())} (default: the model's "
                     "own, as its file declares it; Euler for a Vensim file that declares "
                     "none; Euler with --engine pysd)")
    _add_engine(sim)
    sim.add_argument("--backend", choices=integrate.BACKENDS, default=SolverOptions.backend,
                     help="what runs euler and rk4: native (one compiled numba kernel, "
                     "cached on disk), numpy, or auto (the default: native for large "
                     "ensembles or where the kernel is ready, numpy for a small run, whose "
                     "cost is below numba's start-up; a warning names what native cannot "
                     "compile)")
    sim.add_argument("--set", action="append", default=[], metavar='"Name=value"',
                     help="set a constant; a comma-separated list runs an ensemble; several "
                     "lists are crossed into a grid (every combination), unless --zip")
    sim.add_argument("--zip", action="store_true",
                     help="pair the --set lists element by element instead of crossing "
                     "them (they must have the same length)")
    sim.add_argument("--allow-out-of-range", action="store_true",
                     help="simulate values outside a constant's declared [min,max] range "
                     "(refused by default, as in deterrence run)")
    sim.add_argument("--seed", default=None, metavar="N",
                     help="seed of the RANDOM functions (default 0): the same seed gives "
                     "the same draws, run i of an ensemble its own stream; recorded as the "
                     "attr seed of a .nc output")
    sim.add_argument("--output", "-o", help="write results to .nc (NetCDF) or .csv")
    sim.add_argument("--rtol", type=float, default=SolverOptions.rtol,
                     help="relative tolerance (adaptive)")
    sim.add_argument("--atol", type=float, default=SolverOptions.atol,
                     help="absolute tolerance (adaptive)")
    sim.add_argument("--max-step", type=float, default=None, help="largest step (adaptive)")
    sim.add_argument("--time-step", type=float, default=None, help="override TIME STEP")
    sim.add_argument("--saveper", type=float, default=None, help="override SAVEPER")
    sim.add_argument("--initial-time", type=float, default=None, help="override INITIAL TIME")
    sim.add_argument("--final-time", type=float, default=None, help="override FINAL TIME")
    sim.add_argument("--max-memory", default=None, metavar="SIZE",
                     help="refuse runs estimated to need more memory, e.g. 16GiB or inf "
                     "(default 4GiB, or half the machine's memory; $DETERRENCE_MAX_MEMORY)")
    sim.add_argument("--max-steps", type=float, default=100_000_000,
                     help="refuse euler/rk4 runs of more time steps (default 100000000)")
    sim.set_defaults(func=_cmd_simulate)

    info = sub.add_parser("info", help="list a model's stocks, flows and constants")
    info.add_argument("model")
    _add_engine(info)
    info.set_defaults(func=_cmd_info)

    try:
        from . import plot
    except ImportError:  # pragma: no cover - plotting needs matplotlib, a core dependency
        plot = None
    if plot is not None:
        p = sub.add_parser("plot", help="draw results (.nc) as briefing figures")
        add_plot_arguments(p)
        p.set_defaults(func=_cmd_plot)

    _add_table_commands(sub)

    dia = sub.add_parser("diagram", help="draw a model's stock-and-flow structure and loops")
    dia.add_argument("model")
    dia.add_argument("--out", help="image file (.png, .svg, .pdf); default MODEL_structure.png")
    dia.add_argument("--loops", action="store_true", help="list the feedback loops")
    dia.add_argument("--max-loop", type=int, default=4, help="longest loop listed (stocks)")
    dia.set_defaults(func=_cmd_diagram)

    cache = sub.add_parser("cache", help="show or empty the cache of compiled kernels",
                           description="The native backend's compiled kernels, one entry "
                           "per model and version of the compiler stack (at most "
                           f"{kernel_cache.MAX_ENTRIES}, the least recently used removed "
                           "first). Its folder: $DETERRENCE_KERNEL_CACHE_DIR, else kernels "
                           "in $DETERRENCE_CACHE_DIR, else ~/.cache/deterrence/kernels.")
    cache.add_argument("action", choices=("info", "clear"),
                       help="info: the folder, entries and size; clear: remove every entry")
    cache.set_defaults(func=_cmd_cache)

    run = sub.add_parser("run", help="run an experiment with Hydra (see conf/)",
                         add_help=False)
    run.set_defaults(func=None)
    return parser


def _cmd_cache(args: argparse.Namespace) -> int:
    root = kernel_cache.cache_root()
    if root is None:
        print("the kernel cache is off (DETERRENCE_KERNEL_CACHE_DIR or "
              "DETERRENCE_CACHE_DIR is 'off')")
        return 0
    if args.action == "clear":
        removed = kernel_cache.clear(root)
        left = len(kernel_cache.entries(root))
        print(f"removed {removed} entries from {root}"
              + (f" ({left} in use by other processes kept)" if left else ""))
        return 0
    found = kernel_cache.entries(root)
    size = sum(kernel_cache.size_of(p) for p in found)
    print(f"kernel cache: {root}\nentries: {len(found)} (at most "
          f"{kernel_cache.MAX_ENTRIES})\nsize: {size / 1e6:.1f} MB")
    return 0


def _show_warning(message: Warning | str, category: type[Warning], filename: str,
                  lineno: int, file: TextIO | None = None, line: str | None = None) -> None:
    """The package's warnings as one ``warning:`` line; any other keeps Python's form."""
    if issubclass(category, ModelWarning):
        print(f"warning: {message}", file=sys.stderr)
    else:
        _python_showwarning(message, category, filename, lineno, file, line)


_python_showwarning = warnings.showwarning


def main(argv: Sequence[str] | None = None) -> int:
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            code = _main(argv)
        sys.stdout.flush()  # a closed pipe shows here, not as a traceback at exit
    except BrokenPipeError:
        # Python's recipe (signal module, "Note on SIGPIPE"): the reader has gone, so
        # send what is still buffered to devnull and exit 1 without a word.
        _discard_stdout()
        return EXIT_OS_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except WriteError as exc:  # standard output, or a file an experiment writes
        return _error(str(exc), EXIT_OS_ERROR)
    return code


def _discard_stdout() -> None:
    """What is still buffered goes nowhere, so the exit flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _main(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "run":  # Hydra owns the rest of the command line
        from .experiments import hydra_main

        return hydra_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    # The commands' output is written when they end, so that an error writing it (a full
    # disk behind "> out.txt") is told apart from the command's own and named.
    output = io.StringIO()
    try:
        with contextlib.redirect_stdout(output):
            return _run(args)
    finally:
        _write_stdout(output.getvalue())


def _write_stdout(text: str) -> None:
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        _discard_stdout()
        raise WriteError(exc.strerror or str(exc), path="standard output") from exc


def _run(args: argparse.Namespace) -> int:
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        raise
    except FileNotFoundError as exc:  # a path typed wrong
        return _error(_os_message(exc), EXIT_USER_ERROR)
    except OSError as exc:  # the system's: permissions, a full disk, a device
        return _error(_os_message(exc), EXIT_OS_ERROR)
    except ModelError as exc:  # only the package's own: any other exception is a bug
        return _error(str(exc), EXIT_USER_ERROR)


def _error(message: str, code: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def _os_message(exc: OSError) -> str:
    """``path: reason`` from the operating system's error (ours are already worded)."""
    if isinstance(exc, ModelError) or not exc.strerror:
        return str(exc)
    names = [str(n) for n in (exc.filename, exc.filename2) if n is not None]
    return f"{' -> '.join(names)}: {exc.strerror}" if names else exc.strerror


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

