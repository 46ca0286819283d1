"""Stateful functions as hidden stocks: SMOOTH, DELAY, TREND, DELAY FIXED and INITIAL.

Each builder takes the lowerer (for lowering arguments and making nodes) and the PySD
structure, adds the stocks and auxiliaries that implement it, and returns the IR of its
output. One family per function, as SDEverywhere keeps them; their entries in the
library registry (``Lowering.STATEFUL``) list them for the docs.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from pysd.translators.structures import abstract_expressions as ae

from ..errors import ModelError
from ..library import Clock
from . import ir
from .fold import Folder, NotConstantError
from .ir import NodeKind, binop, call, num, ref
from .macros import CONTROLS

if TYPE_CHECKING:
    from .lower import Lowerer


def order(lw: Lowerer, tree: Any, what: str) -> int:
    """DELAY N / SMOOTH N orders fix the number of stocks, so they must be constants."""
    deps: set[str] = set()
    names = lw.elements
    if lw.scope is not None:  # inside a macro only Time and the controls are the model's
        names = {k: v for k, v in lw.elements.items()
                 if k in CONTROLS and k not in lw.scope.values}
    try:
        value = Folder(names, deps).fold(tree)
    except NotConstantError as exc:
        raise lw.unsupported(
            f"a {what} whose order is not a constant ({exc})",
            "the order fixes the number of hidden stocks; make it a number",
        ) from None
    if not math.isfinite(value):
        raise lw.error(ModelError, f"the order of {what} in {lw.owner!r} is "
                       f"{value}; it must be a finite number, at least 1")
    result = round(value) if abs(value - round(value)) < 1e-9 else int(value)
    if result < 1:
        raise lw.error(ModelError, f"the order of {what} in {lw.owner!r} is "
                       f"{value:g}; it must be at least 1")
    for dep in deps:
        lw.order_dependencies.setdefault(dep, set()).add(lw.owner)
    return result


def smooth(lw: Lowerer, tree: Any, n: int, what: str) -> ir.Expr:
    """``n`` first-order stages in series, each with a ``n``-th of the smoothing time."""
    label = f"{what} in {lw.owner!r}"
    inp = lw.hidden_aux(lw.lower(tree.input), label + " input")
    tau = lw.hidden_aux(binop("/", lw.lower(tree.smooth_time), num(n)), label + " stage time")
    init = lw.lower(tree.initial)
    upstream = inp
    for k in range(n):
        stock = lw.new(NodeKind.STOCK, f"{label} stage {k + 1}", raw_init=init)
        stock.raw = binop("/", binop("-", upstream, ref(stock.id)), tau)
        upstream = ref(stock.id)
    return upstream


def delay(lw: Lowerer, tree: Any, n: int, what: str) -> ir.Expr:
    """DELAY1/3 as ``n`` stocks in series, each holding ``delay/n``."""
    label = f"{what} in {lw.owner!r}"
    inp = lw.hidden_aux(lw.lower(tree.input), label + " input")
    tau = lw.hidden_aux(binop("/", lw.lower(tree.delay_time), num(n)), label + " stage time")
    init = lw.lower(tree.initial)
    inflow: ir.Expr = inp
    for k in range(n):
        stock = lw.new(NodeKind.STOCK, f"{label} stage {k + 1}", raw_init=binop("*", init, tau))
        outflow = lw.new(NodeKind.AUX, f"{label} outflow {k + 1}",
                         raw=binop("/", ref(stock.id), tau))
        stock.raw = binop("-", inflow, ref(outflow.id))
        inflow = ref(outflow.id)
    return inflow


def delay_n(lw: Lowerer, tree: Any, n: int) -> ir.Expr:
    """DELAY N: ``n`` stocks in series, with Vensim's two rules for it.

    - Each stage keeps the delay time of the step at which its content was computed
      (stage k sees the delay time of k steps ago, the output that of the previous
      step); the adaptive methods see the current one.
    - "For DELAY N to make sense delay time must be bigger than order * TIME STEP. If
      this is not the case Vensim ... reduces the order so that this is true" (Vensim's
      reference, DELAY N): the order used is ``m = clip(floor(delay / TIME STEP), 1, n)``
      of the delay time and TIME STEP at the initial time (per run), so each stage time
      is at least one TIME STEP, and with ``m < n`` the behaviour is that of a pipeline
      of about ``delay / TIME STEP`` steps, as Vensim says (like DELAY MATERIAL). The
      stages past ``m`` pass their inflow straight on and stay empty; the stage time is
      never below TIME STEP (a delay shorter than one step is one step, as DELAY FIXED
      and DELAY MATERIAL document), so Euler never drains a stage by more than it holds.
    """
    label = f"DELAY N in {lw.owner!r}"
    dt = ref(lw.control_node("time_step"))
    inp = lw.hidden_aux(lw.lower(tree.input), label + " input")
    delay_time = lw.hidden_aux(lw.lower(tree.delay_time), label + " delay time")
    steps = binop("/", delay_time, dt)  # floor(x + 1e-9): 0.3 / 0.1 is 2.9999999999999996
    whole = call("integer", binop("+", steps, binop("*", num(1e-9), call("abs", steps))))
    used = ref(lw.new(NodeKind.SNAPSHOT, label + " order used", raw_init=call(
        "min", call("max", whole, num(1.0)), num(float(n)))).id)

    def stage_time(lag: int) -> ir.Expr:  # of the delay time ``lag`` steps ago
        lagged = delay_time if lag == 0 else _lagged(lw, delay_time, lag, label)
        return lw.hidden_aux(call("max", binop("/", lagged, used), dt),
                             f"{label} stage time" + (f" lag {lag}" if lag else ""))

    tau = stage_time(0)
    init = lw.lower(tree.initial)
    taus = [tau] + [stage_time(k) for k in range(1, n)]
    out_tau = taus[1] if n > 1 else stage_time(1)

    def active(k: int) -> ir.Expr:  # stage k (0-based) is one of the ``used`` stages
        return ir.compare("<=", num(float(k + 1)), used)

    inflow: ir.Expr = inp
    output: ir.Expr = num(0.0)
    for k in range(n):
        stock = lw.new(NodeKind.STOCK, f"{label} stage {k + 1}", raw_init=call(
            "if_then_else", active(k), binop("*", init, tau), num(0.0)))
        outflow = lw.new(NodeKind.AUX, f"{label} outflow {k + 1}", raw=call(
            "if_then_else", active(k), binop("/", ref(stock.id), taus[k]), inflow))
        stock.raw = binop("-", inflow, ref(outflow.id))
        last = ir.compare("=", used, num(float(k + 1)))
        output = call("if_then_else", last, binop("/", ref(stock.id), out_tau), output)
        inflow = ref(outflow.id)
    return ref(lw.new(NodeKind.AUX, label, raw=output).id)


def _lagged(lw: Lowerer, value: ir.Expr, steps: int, label: str) -> ir.Expr:
    """``value`` as it was ``steps`` time steps ago (its current value if adaptive)."""
    if isinstance(value, ir.Const):
        return value
    dt = ref(lw.control_node("time_step"))
    lag = lw.new(NodeKind.AUX, f"{label} lag {steps}", raw=binop("*", num(steps), dt))
    node = lw.new(NodeKind.DISCRETE, f"{label} lag {steps}", raw=value, raw_init=value,
                  delay=lag.id, alt=value)
    return ref(node.id)


def _trend(lw: Lowerer, label: str, inp: ir.Expr, avg: ir.Expr,
           init_trend: ir.Expr) -> ir.Expr:
    """TREND's structure: the input smoothed over ``avg``, and its fractional trend."""
    stock = lw.new(NodeKind.STOCK, label + " average")
    stock.raw = binop("/", binop("-", inp, ref(stock.id)), avg)
    stock.raw_init = binop("/", inp, binop("+", num(1), binop("*", init_trend, avg)))
    return ref(lw.new(NodeKind.AUX, label, raw=call(
        "zidz", binop("-", inp, ref(stock.id)), binop("*", avg, call("abs", ref(stock.id))))).id)


def trend(lw: Lowerer, tree: ae.TrendStructure) -> ir.Expr:
    label = f"TREND in {lw.owner!r}"
    inp = lw.hidden_aux(lw.lower(tree.input), label + " input")
    avg = lw.hidden_aux(lw.lower(tree.average_time), label + " average time")
    return _trend(lw, label, inp, avg, lw.lower(tree.initial_trend))


def forecast(lw: Lowerer, tree: ae.ForecastStructure) -> ir.Expr:
    """FORECAST(input, average time, horizon) = input * (1 + TREND(input, average time,
    0) * horizon), as Vensim's reference defines it (and PySD computes it)."""
    label = f"FORECAST in {lw.owner!r}"
    inp = lw.hidden_aux(lw.lower(tree.input), label + " input")
    avg = lw.hidden_aux(lw.lower(tree.average_time), label + " average time")
    slope = _trend(lw, label + " trend", inp, avg, lw.lower(tree.initial_trend))
    horizon = lw.lower(tree.horizon)
    return ref(lw.new(NodeKind.AUX, label, raw=binop(
        "*", inp, binop("+", num(1), binop("*", slope, horizon)))).id)


def sample_if_true(lw: Lowerer, tree: ae.SampleIfTrueStructure) -> ir.Expr:
    """SAMPLE IF TRUE(condition, input, initial): the input while the condition is true,
    else the value of the previous TIME STEP (``initial`` before the first sample); the
    held value is a one-step pipe, so it needs a fixed-step method, as in Vensim."""
    label = f"SAMPLE IF TRUE in {lw.owner!r}"
    held = lw.new(NodeKind.DISCRETE, label + " held value", raw_init=lw.lower(tree.initial),
                  delay=lw.control_node("time_step"))
    out = lw.new(NodeKind.AUX, label, raw=call(
        "if_then_else", lw.lower(tree.condition), lw.lower(tree.input), ref(held.id)))
    held.raw = ref(out.id)
    return ref(out.id)


def npv(lw: Lowerer, entry: Any, fname: str, raw_args: list[Any]) -> ir.Expr:
    """NPV(stream, discount rate, initial value, factor), as Vensim's reference writes it:
    ``(accum + stream * TIME STEP * df) * factor`` with ``accum = INTEG(stream * df,
    initial value)`` and ``df = INTEG(-df * rate / (1 + rate * TIME STEP), 1)``."""
    if len(raw_args) != 4:
        raise lw.error(ModelError, f"NPV in {lw.owner!r} takes 4 arguments (stream, "
                       f"discount rate, initial value, factor), got {len(raw_args)}")
    label = f"NPV in {lw.owner!r}"
    stream, rate, init, factor = (lw.lower(a) for a in raw_args)
    stream = lw.hidden_aux(stream, label + " stream")
    rate = lw.hidden_aux(rate, label + " discount rate")
    dt = ref(lw.control_node("time_step"))
    df = lw.new(NodeKind.STOCK, label + " discount factor", raw_init=num(1.0))
    df.raw = binop("/", binop("*", ir.negate(ref(df.id)), rate),
                   binop("+", num(1.0), binop("*", rate, dt)))
    accum = lw.new(NodeKind.STOCK, label + " accumulated", raw_init=init,
                   raw=binop("*", stream, ref(df.id)))
    return ref(lw.new(NodeKind.AUX, label, raw=binop("*", binop(
        "+", ref(accum.id), binop("*", binop("*", stream, dt), ref(df.id))), factor)).id)


def depreciate_straightline(lw: Lowerer, entry: Any, fname: str, raw_args: list[Any]
                            ) -> ir.Expr:
    """DEPRECIATE STRAIGHTLINE(str, dtime, fisc, init): each step's investment
    (``str * TIME STEP``) is returned evenly over the ``dtime / TIME STEP`` steps from its
    own, as a flow: ``(S + str * TIME STEP - S(t - dtime + TIME STEP)) / dtime`` with
    ``S = INTEG(str, 0)`` (the lag is a DELAY FIXED pipe, so fixed steps only), plus what
    ``init``, as if invested over the previous ``dtime``, still returns. The fiscal period
    must be the TIME STEP: Vensim lumps the payments of longer periods together, which
    the engine does not compute yet."""
    if len(raw_args) != 4:
        raise lw.error(ModelError, f"DEPRECIATE STRAIGHTLINE in {lw.owner!r} takes 4 "
                       f"arguments (stream, depreciation time, fiscal period, initial "
                       f"value), got {len(raw_args)}")
    label = f"DEPRECIATE STRAIGHTLINE in {lw.owner!r}"
    try:
        fisc = Folder(lw.elements, set()).fold(raw_args[2])
        step = Folder(lw.elements, set()).fold(lw.elements["time_step"][0].components[0].ast)
    except (NotConstantError, KeyError):
        fisc, step = math.nan, 0.0
    if not math.isclose(fisc, step, rel_tol=1e-9):
        raise lw.unsupported(f"DEPRECIATE STRAIGHTLINE with a fiscal period ({fisc:g}) other "
                             f"than the TIME STEP ({step:g})", "the engine returns each "
                             "step's investment evenly over dtime, which is Vensim's rule "
                             "when the fiscal period is the TIME STEP (PySD does not compute "
                             "the function at all)")
    stream, dtime, _, init = (lw.lower(a) for a in raw_args)
    stream = lw.hidden_aux(stream, label + " stream")
    dtime = lw.hidden_aux(dtime, label + " depreciation time")
    dt = ref(lw.control_node("time_step"))
    invested = lw.new(NodeKind.STOCK, label + " invested", raw=stream, raw_init=num(0.0))
    lag = lw.new(NodeKind.AUX, label + " lag", raw=binop("-", dtime, dt))
    before = lw.new(NodeKind.DISCRETE, label + " invested before", raw=ref(invested.id),
                    raw_init=num(0.0), delay=lag.id)
    t0 = ref(lw.control_node("initial_time"))
    left = call("max", num(0.0), binop("-", binop("+", t0, ref(lag.id)), ir.Time(Clock.TIME)))
    window = binop("-", binop("+", ref(invested.id), binop("*", stream, dt)), ref(before.id))
    return ref(lw.new(NodeKind.AUX, label, raw=binop("/", binop(
        "+", window, binop("*", init, left)), dtime)).id)


def delay_fixed(lw: Lowerer, tree: ae.DelayFixedStructure) -> ir.Expr:
    label = f"DELAY FIXED in {lw.owner!r}"
    inp = lw.hidden_aux(lw.lower(tree.input), label + " input")
    delay_time = lw.new(NodeKind.AUX, label + " delay time", raw=lw.lower(tree.delay_time))
    node = lw.new(NodeKind.DISCRETE, label, raw=inp, raw_init=lw.lower(tree.initial),
                  delay=delay_time.id)
    return ref(node.id)


def initial(lw: Lowerer, tree: ae.InitialStructure) -> ir.Expr:
    node = lw.new(NodeKind.SNAPSHOT, f"INITIAL in {lw.owner!r}",
                  raw_init=lw.lower(tree.initial))
    return ref(node.id)


def non_negative(lw: Lowerer, stock: ir.Node) -> ir.Expr:
    """An XMILE non-negative stock's rate: ``MAX(net, -stock / TIME STEP)``.

    With Euler this is exactly the rule of PySD (and of XMILE's Euler semantics, where the
    outflows are cut so the stock stops at 0): ``S + dt * MAX(net, -S/dt) = MAX(S + dt *
    net, 0)``. For rk4 and the adaptive methods it is an ordinary differential equation
    (Lipschitz in the stock, so every solver can integrate it) whose stock cannot cross
    zero (S' >= -S / TIME STEP); it tends to the projected dynamics as TIME STEP shrinks.
    """
    dt = ref(lw.control_node("time_step"))
    return call("max", stock.raw, binop("/", ir.negate(ref(stock.id)), dt))


#: registry entries (``Lowering.SPECIAL``) whose calls build hidden stocks, by key
CALLS: dict[str, Any] = {"npv": npv, "depreciate_straightline": depreciate_straightline}
#: PySD's structure -> its builder (the lowerer dispatches on the structure's type)
BUILDERS: dict[type, Any] = {
    ae.InitialStructure: initial,
    ae.SmoothStructure: lambda lw, t: smooth(lw, t, int(t.order), "SMOOTH"),
    ae.SmoothNStructure: lambda lw, t: smooth(lw, t, order(lw, t.order, "SMOOTH N"),
                                              "SMOOTH N"),
    ae.DelayStructure: lambda lw, t: delay(lw, t, int(t.order), "DELAY"),
    ae.DelayNStructure: lambda lw, t: delay_n(lw, t, order(lw, t.order, "DELAY N")),
    ae.TrendStructure: trend,
    ae.ForecastStructure: forecast,
    ae.SampleIfTrueStructure: sample_if_true,
    ae.DelayFixedStructure: delay_fixed,
}
