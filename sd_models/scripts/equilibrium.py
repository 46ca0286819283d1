"""Compute the status-quo equilibrium of alliance_deterrence.mdl and (with --write) store it.

The model starts in the equilibrium of its default constants (status-quo levers, no
shock), so that a lever changed at time 0 shows the transient it causes. After a change to
a default constant or an equation, rerun:

    .venv/bin/python sd_models/scripts/equilibrium.py --write

It integrates the model for 3000 years from its current initial state (Euler's fixed
points are the model's equilibria, so the step does not bias them), checks that the rates
have vanished, and writes the final stock values into the initial-value constants (slow
stocks) or the INTEG initial values (perception and tension stocks).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pysd

MODEL = Path(__file__).resolve().parents[1] / "alliance_deterrence.mdl"

# stock -> name of the constant holding its initial value (None: literal inside INTEG)
INITIALS = {
    "Mutual Trust": "Mutual Trust Initial",
    "Alliance Capability": "Alliance Capability Initial",
    "Complacency": "Complacency Initial",
    "Adversary Capability": "Adversary Capability Initial",
    "Perceived Capability": None,
    "Perceived Commitment": None,
    "Adversary Risk Estimate": None,
    "Crisis Tension": None,
}


def equilibrium(path: Path = MODEL, years: float = 3000.0) -> dict[str, float]:
    model = pysd.read_vensim(str(path))
    out = model.run(final_time=years, time_step=0.25, saveper=years / 4,
                    return_columns=list(INITIALS))
    last, before = out.iloc[-1], out.iloc[-2]
    drift = max(abs(last[s] - before[s]) for s in INITIALS)
    if drift > 1e-9:
        sys.exit(f"{path}: no equilibrium after {years} years (last quarter moved {drift:g})")
    return {s: float(last[s]) for s in INITIALS}


def write(values: dict[str, float], path: Path = MODEL) -> None:
    text = path.read_text()
    for stock, const in INITIALS.items():
        v = f"{values[stock]:.6g}"
        if const:
            pat = rf"(\n{re.escape(const)}=\n\t)[^\n]+"
        else:
            pat = rf"(\n{re.escape(stock)}= INTEG \(\n\t[^\n]+,\n\t\t)[^)\n]+"
        text, n = re.subn(pat, rf"\g<1>{v}", text)
        if n != 1:
            sys.exit(f"{path}: could not find the initial value of {stock!r}")
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="store the values in the model")
    args = parser.parse_args()
    values = equilibrium()
    for stock, v in values.items():
        print(f"{stock:28s} {v:.6g}")
    if args.write:
        write(values)
        print(f"written to {MODEL}")


if __name__ == "__main__":
    main()
