"""Attack: Python in the free text of a model run with ``engine="pysd"``.

PySD's Python builder (3.14.3) writes a variable's documentation between triple quotes
into the generated module, and a macro's name between single quotes into a module-level
call: a comment holding ``\"\"\"`` then statements runs when the variable is computed, a
crafted macro name runs as soon as the module is imported. The fallback neutralises the
abstract model before PySD builds it; each crafted file must run (its text kept as data
in the Dataset's attributes) or fail with a clear error, and the marker file must never
appear. The control tests show that the same payloads do run on PySD as it is, so the
attack tests cannot pass because a payload is harmless.
"""

from __future__ import annotations

import contextlib
import gc
import os
import warnings
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from adversarial_support import CONTROLS

import deterrence
from deterrence.errors import ModelError, UnsupportedError


def _doc_model(doc: str, units: str = "Dmnl") -> str:
    return ("{UTF-8}\nx = 1\n\t~\t" + units + "\n\t~\t" + doc + "\n\t|\n\n"
            "s = INTEG(x, 0)\n\t~\tDmnl\n\t~\tplain\n\t|\n\n" + CONTROLS)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _opener(marker: Path) -> str:
    return f"open('{marker}','w').write('x')"


def doc_variants(marker: Path) -> dict[str, str]:
    code = _opener(marker)
    return {
        "one line": f'""" ; import os; {code} ; """',
        "own lines": f'"""\n{code}\n"""',
        # PySD turns a backslash of the documentation into a new line
        "backslashes": f'"""\\{code}\\"""',
        "single quotes": f"''' ; {code} ; '''",
    }


def macro_model(marker: Path) -> str:
    """A macro whose name closes PySD's quotes and calls ``open`` at import."""
    name = f"m',str(open('{marker}','w')),'"
    return ("{UTF-8}\n" f':MACRO: "{name}"(a)\n"{name}" = a\n\t~\t\n\t~\t\n\t|\n\n'
            ":END OF MACRO:\n"
            f'y = "{name}"(2)\n\t~\t\n\t~\t\n\t|\n\n'
            "s = INTEG(y, 0)\n\t~\t\n\t~\t\n\t|\n\n" + CONTROLS)


def _no_python_beside(path: Path) -> None:
    assert not list(path.parent.glob("*.py")), "PySD's module was written beside the model"


@pytest.mark.parametrize("variant", ["one line", "backslashes"])
def test_control_pysd_runs_code_in_documentation(tmp_path: Path, variant: str) -> None:
    """PySD as it is: the crafted comment runs when the model runs."""
    import pysd

    marker = tmp_path / "marker"  # lower case: PySD lowers macro names
    path = _write(tmp_path / "doc.mdl", _doc_model(doc_variants(marker)[variant]))
    pysd.read_vensim(str(path)).run()
    assert marker.exists()


def test_control_pysd_runs_code_in_a_macro_name(tmp_path: Path) -> None:
    """PySD as it is: the crafted macro name runs as the module is imported."""
    import pysd

    marker = tmp_path / "marker"  # lower case: PySD lowers macro names
    path = _write(tmp_path / "macro.mdl", macro_model(marker))
    with warnings.catch_warnings(), contextlib.suppress(ImportError):
        warnings.simplefilter("ignore")
        pysd.read_vensim(str(path))  # the module runs the payload, then fails to load
    assert marker.exists()


@pytest.mark.parametrize("variant", ["one line", "own lines", "backslashes", "single quotes"])
def test_code_in_documentation_is_data(tmp_path: Path, variant: str) -> None:
    marker = tmp_path / "marker"  # lower case: PySD lowers macro names
    doc = doc_variants(marker)[variant]
    path = _write(tmp_path / "doc.mdl", _doc_model(doc))
    model = deterrence.load(path, engine="pysd")
    ds = model.simulate()
    assert not marker.exists(), "code from the model's documentation ran"
    assert "open(" in ds["x"].attrs["long_name"]
    assert ds["x"].attrs == deterrence.load(path).simulate(method="euler")["x"].attrs
    assert ds.attrs["engine"] == "pysd"
    assert ds["s"].values.tolist() == [float(t) for t in range(11)]
    _no_python_beside(path)


def test_code_in_units_is_data(tmp_path: Path) -> None:
    marker = tmp_path / "marker"  # lower case: PySD lowers macro names
    units = f'""" + str({_opener(marker)}) + """'
    path = _write(tmp_path / "units.mdl", _doc_model("plain", units=units))
    ds = deterrence.load(path, engine="pysd").simulate()
    assert not marker.exists()
    assert ds["x"].attrs["units"] == units


def test_code_in_a_macro_name_does_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "marker"  # lower case: PySD lowers macro names
    path = _write(tmp_path / "macro.mdl", macro_model(marker))
    # PySD cannot run a macro so named (its runner looks the name up): a clear error
    with pytest.raises(ModelError, match="PySD cannot build or load") as info:
        deterrence.load(path, engine="pysd")
    assert info.value.path == path
    assert not marker.exists(), "code from a macro name ran"
    _no_python_beside(path)


def test_code_in_names_and_subscripts_is_data(tmp_path: Path) -> None:
    """Quotes in a variable's name and in a subscript range's name do not close PySD's
    quotes; the Dataset keeps the names as written."""
    marker = tmp_path / "marker"  # lower case: PySD lowers macro names
    payload = f"']+[str({_opener(marker)})]+['"
    text = ("{UTF-8}\n" f'"r{payload}": e1, e2\n\t~\t\n\t~\t\n\t|\n\n'
            f'w["r{payload}"] = 1, 2\n\t~\t\n\t~\t\n\t|\n\n'
            "v[e1] = 1\n\t~\t\n\t~\t\n\t|\n\nv[e2] = w[e2]\n\t~\t\n\t~\t\n\t|\n\n"
            f'"Fred{payload}" = 3\n\t~\t\n\t~\t\n\t|\n\n'
            "s = INTEG(1, 0)\n\t~\t\n\t~\t\n\t|\n\n" + CONTROLS)
    path = _write(tmp_path / "names.mdl", text)
    ds = deterrence.load(path, engine="pysd").simulate()
    assert not marker.exists()
    assert ds["w"].dims == (f"r{payload}",)
    assert ds["w"].values.tolist() == [1.0, 2.0]
    assert ds["v"].dims == (f"r{payload}",)  # computed from constants: fixed for the run
    assert ds["v"].values.tolist() == [1.0, 2.0]
    fred = next(v for v in ds.data_vars if v.startswith("fred"))
    assert ds[fred].attrs["vensim_name"].strip('"') == f"Fred{payload}"
    assert float(ds[fred]) == 3.0


def test_code_in_xmile_documentation_is_data(tmp_path: Path) -> None:
    marker = tmp_path / "marker"  # lower case: PySD lowers macro names
    doc = f'""" ; {_opener(marker)} ; """'
    xmlns = "http://docs.oasis-open.org/xmile/ns/XMILE/v1.0"
    path = _write(tmp_path / "doc.xmile", f"""<xmile xmlns="{xmlns}" version="1.0">
  <header><vendor>test</vendor><product>test</product></header>
  <sim_specs method="Euler" time_units="Months"><start>0</start><stop>4</stop><dt>1</dt>
  </sim_specs>
  <model><variables>
    <aux name="X"><eqn>1</eqn><doc>{escape(doc)}</doc></aux>
    <stock name="S"><eqn>0</eqn><inflow>X</inflow></stock>
  </variables></model>
</xmile>
""")
    ds = deterrence.load(path, engine="pysd").simulate()
    assert not marker.exists()
    assert ds["x"].attrs["long_name"] == doc
    assert ds["s"].values.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_generated_module_is_private_and_removed(tmp_path: Path) -> None:
    path = _write(tmp_path / "plain.mdl", _doc_model("plain"))
    model = deterrence.load(path, engine="pysd")
    folder = model.folder
    assert (folder / "model.py").exists()
    assert tmp_path not in folder.parents
    assert os.stat(folder).st_mode & 0o077 == 0, "the module's folder is readable by others"
    model.close()
    assert not folder.exists()
    model = deterrence.load(path, engine="pysd")
    folder = model.folder
    del model
    gc.collect()
    assert not folder.exists(), "the module's folder outlived its model"


@pytest.mark.parametrize("code", [
    "import os",
    "from subprocess import run",
    "def f():\n    return open('x', 'w')",
    "def f():\n    return __import__('os')",
    "x = ().__class__.__base__",
    "def f():\n    return _root.joinpath('x').write_text('x')",
    "def f():\n    return eval('1')",
])
def test_generated_module_outside_pysds_templates_is_not_imported(tmp_path: Path,
                                                                   code: str) -> None:
    """The second line: code that slipped past the neutralisation is refused by reading
    the module as a syntax tree, before PySD imports it."""
    from deterrence.pysd_engine.neutralise import audit

    (tmp_path / "model.py").write_text(
        "from pathlib import Path\nimport numpy as np\n_root = Path(__file__).parent\n"
        f"{code}\n", encoding="utf-8")
    with pytest.raises(RuntimeError, match=r"generated module model\.py holds"):
        audit(tmp_path)
    (tmp_path / "model.py").write_text(
        "from pathlib import Path\nimport numpy as np\n_root = Path(__file__).parent\n"
        "def f():\n    return float(np.exp(1))\n", encoding="utf-8")
    audit(tmp_path)  # what the templates write passes


def test_names_the_cleaning_would_merge_are_refused(tmp_path: Path) -> None:
    """``a'b`` and ``a_b`` are two variables; cleaned for PySD they would be one."""
    text = ("{UTF-8}\n\"a'b\" = 1\n\t~\t\n\t~\t\n\t|\n\na_b = 2\n\t~\t\n\t~\t\n\t|\n\n"
            "s = INTEG(a_b, 0)\n\t~\t\n\t~\t\n\t|\n\n" + CONTROLS)
    path = _write(tmp_path / "merged.mdl", text)
    with pytest.raises(UnsupportedError, match="same name once quotes") as info:
        deterrence.load(path, engine="pysd")
    assert info.value.path == path
