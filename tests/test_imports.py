"""What importing a part of contactops loads: the command line starts light, layers stay apart.

``contactops --help`` took 3 s when the CLI imported OR-Tools, the numba
kernels, the simulator, DuckDB and pandas to start.  Each check runs in a fresh
interpreter (``sys.modules`` of this one holds whatever other tests imported)
and names the modules that must not be loaded.  Timings are not asserted here;
the README's Development section gives them.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
ENV = {**os.environ, "PYTHONPATH": str(SRC)}

# the upper layers and the heavy engines
UPPER = ("ortools", "fastapi", "sqlalchemy", "duckdb", "pandas", "statsforecast")
# what the command line must not load to start, print --help or --version: the engines, and
# numpy, scipy and pyarrow, which alone take longer than the rest of the start
CLI_HEAVY = (*UPPER, "numba", "matplotlib", "uvicorn", "numpy", "scipy", "pyarrow")

# runs in a fresh interpreter: prints {step: [heavy top-level modules loaded so far]}
PROBE = r"""
import json, sys
heavy = set(sys.argv[1].split(","))
def loaded():
    return sorted({m.split(".")[0] for m in sys.modules} & heavy)
seen = {}
for step in sys.argv[2:]:
    exec(step)
    seen[step] = loaded()
print(json.dumps(seen))
"""


def _probe(heavy: tuple[str, ...], *steps: str) -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, ",".join(heavy), *steps],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, list[str]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_queueing_loads_no_upper_layer() -> None:
    seen = _probe(
        UPPER,
        "import contactops.queueing",
        "from contactops.queueing import *",  # every public name, kernels and all
        "import contactops.queueing._kernels, contactops.queueing._special",
    )
    assert {step: mods for step, mods in seen.items() if mods} == {}


def test_importing_the_cli_loads_no_engine() -> None:
    seen = _probe(CLI_HEAVY, "import contactops", "import contactops.cli")
    assert {step: mods for step, mods in seen.items() if mods} == {}


def _commands() -> list[list[str]]:
    """Every command path of the CLI (``["kpi"]``, ``["cases", "tick"]``...)."""
    import typer.main

    from contactops.cli import app

    def walk(group: object, path: list[str]) -> list[list[str]]:
        out = []
        for name, command in getattr(group, "commands", {}).items():
            out.append([*path, name])
            out += walk(command, [*path, name])
        return out

    return walk(typer.main.get_command(app), [])


def test_help_and_version_load_no_engine() -> None:
    """``--help``, ``--version`` and every ``<command> --help``, in one interpreter."""
    calls = [["--help"], ["--version"], *([*c, "--help"] for c in _commands())]
    steps = [
        "import contextlib, io\nfrom contactops.cli import app\n"
        f"with contextlib.redirect_stdout(io.StringIO()), "
        f"contextlib.suppress(SystemExit):\n"
        f"    app(args={args!r}, prog_name='contactops')"
        for args in calls
    ]
    seen = _probe(CLI_HEAVY, *steps)
    assert len(seen) == len(calls) > 10
    loaded = {" ".join(args): seen[step] for args, step in zip(calls, steps, strict=True)}
    assert {call: mods for call, mods in loaded.items() if mods} == {}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "contactops", *args],
        capture_output=True,
        text=True,
        env={**ENV, "COLUMNS": "100"},
        timeout=120,
        check=False,
    )


def test_help_lists_every_command() -> None:
    done = _run("--help")
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout
    top = {path[0] for path in _commands()}
    assert {"ingest", "kpi", "plan", "schedule", "simulate", "staff", "cases"} <= top
    missing = [name for name in top if name not in done.stdout]
    assert missing == [], done.stdout


def test_version_prints_the_version() -> None:
    from contactops import __version__

    done = _run("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"contactops {__version__}"


def test_command_help_still_names_its_options() -> None:
    """A command's help is built without its engine, and says the same (the grains, the
    service-level definitions, the export formats)."""
    from contactops.data import FORMATS
    from contactops.metrics import GRAINS
    from contactops.queueing import SL_DEFINITIONS

    for args, names in (
        (("kpi",), GRAINS),
        (("staff",), SL_DEFINITIONS),
        (("ingest",), sorted(FORMATS)),
    ):
        done = _run(*args, "--help")
        assert done.returncode == 0, done.stderr
        text = " ".join(done.stdout.replace("│", " ").split())
        for name in names:
            assert name in text, (args, name, done.stdout)


def test_the_cli_grains_are_the_metrics_grains() -> None:
    """``kpi --help`` lists the grains from a copy (the metrics module loads numpy)."""
    from contactops.cli._data import _GRAINS
    from contactops.metrics import GRAINS

    assert tuple(_GRAINS) == tuple(GRAINS)


# the packages whose re-exports are imported on first use (contactops._lazy_exports)
LAZY = ("contactops.queueing", "contactops.data")


@pytest.mark.parametrize("name", LAZY)
def test_lazy_exports_are_the_public_names(name: str) -> None:
    """Every name in ``__all__`` is one of the package's lazy exports and resolves to the
    object its submodule defines; nothing else resolves."""
    package = importlib.import_module(name)
    exports = {
        attr: f"{name}.{module}" for module, attrs in package._EXPORTS.items() for attr in attrs
    }
    assert sorted(exports) == sorted(package.__all__)
    for attr, module in exports.items():
        assert getattr(package, attr) is getattr(importlib.import_module(module), attr)
    assert set(package.__all__) <= set(dir(package))
    with pytest.raises(AttributeError, match="no attribute 'NoSuchName'"):
        package.NoSuchName  # noqa: B018 - the access is the test
    namespace: dict[str, object] = {}
    exec(f"from {name} import *", namespace)
    assert set(package.__all__) <= set(namespace)


@pytest.mark.parametrize("name", LAZY)
def test_lazy_exports_match_what_type_checkers_see(name: str) -> None:
    """The ``if TYPE_CHECKING:`` imports (for mypy and readers) list the same names, from the
    same submodules, as ``_EXPORTS`` (what runs)."""
    package = importlib.import_module(name)
    tree = ast.parse(Path(package.__file__ or "").read_text(encoding="utf-8"))
    seen: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom), ast.unparse(imp)
                module = (imp.module or "").removeprefix(name + ".")
                seen.setdefault(module, set()).update(a.name for a in imp.names)
    assert seen == {module: set(attrs) for module, attrs in package._EXPORTS.items()}
