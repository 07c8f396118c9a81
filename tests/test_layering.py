"""Every arrow points one way: a module of ``src/biowear`` imports only packages at or below its own layer.

The order (docs: ``/work/shared/DESIGN.md``, "The flow" and "Layout"):

    base (errors, paths, registry, validate, kernels) < signal < data < models < cost < train < search
        < compress < export < bench < report < cli < top level (biowear/__init__.py, api.py, testing.py)

Besides the order: nothing outside ``biowear.cli`` imports ``biowear.cli``; nothing but the top-level modules
imports the top-level API (``biowear``, ``biowear.api``, ``biowear.testing``); ``biowear.kernels`` imports
nothing of biowear except ``errors``, ``registry`` and ``paths``; and no two modules import each other.

Imports are read with :mod:`ast`, at any depth: module level, inside functions, ``if TYPE_CHECKING:`` blocks,
absolute and relative, ``import biowear.x`` and ``from biowear.x import y`` (``y`` counts as the module
``biowear.x.y`` when that module exists).
"""

from __future__ import annotations

import ast
import subprocess
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
PACKAGE = SRC / "biowear"

#: Layers from the bottom up; a module may import its own layer and the layers below it.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "paths", "registry", "validate", "kernels"),
    ("signal",),
    ("data",),
    ("models",),
    ("cost",),
    ("train",),
    ("search",),
    ("compress",),
    ("export",),
    ("bench", "hr"),  # the applications: BiomedBench pipelines, heart rate from PPG
    ("report",),
    ("cli",),
    ("biowear", "api", "estimator", "testing"),  # the top-level API: __init__, api, estimator, testing
)
RANK: dict[str, int] = {name: rank for rank, names in enumerate(LAYERS) for name in names}
TOP_LEVEL = frozenset(LAYERS[-1])
#: What the base package ``biowear.kernels`` may import of biowear besides itself.
KERNELS_MAY_IMPORT = frozenset({"errors", "registry", "paths"})

#: Violations that exist today in files other engineers are changing: (file, imported module).
#: Being removed in issue 10. Any import not listed here fails the test.
KNOWN_VIOLATIONS: frozenset[tuple[str, str]] = frozenset()

#: Pairs of modules that import each other today: (file, imported module), both directions listed.
#: Being removed in issue 10. Any other mutual import fails the test.
KNOWN_CYCLES: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class Import:
    """One import of a biowear module: where it is written and what it resolves to."""

    file: str  # relative to the repository root, e.g. "src/biowear/signal/filters.py"
    line: int
    importer: str  # dotted module name of the file, e.g. "biowear.signal.filters"
    target: str  # dotted module name imported, e.g. "biowear.kernels.profiler"
    text: str  # the import statement as written (unparsed)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}: {self.text}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_module(dotted: str) -> bool:
    """Whether ``dotted`` names a module or package under ``src``."""
    base = SRC.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _from_base(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    """The absolute module a ``from ... import`` statement reads from."""
    if node.level == 0:
        return node.module or ""
    package = importer.split(".") if is_package else importer.split(".")[:-1]
    anchor = package[: len(package) - (node.level - 1)]
    return ".".join([*anchor, node.module] if node.module else anchor)


def imports_of(path: Path) -> Iterator[Import]:
    """Every import of a biowear module in one file, at any nesting depth."""
    importer = module_name(path)
    is_package = path.name == "__init__.py"
    file = path.relative_to(REPO).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _from_base(node, importer, is_package)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                targets.append(candidate if alias.name != "*" and is_module(candidate) else base)
        else:
            continue
        for target in dict.fromkeys(targets):
            if target == "biowear" or target.startswith("biowear."):
                yield Import(file, node.lineno, importer, target, ast.unparse(node))


def all_imports() -> list[Import]:
    return [imp for path in sorted(PACKAGE.rglob("*.py")) for imp in imports_of(path)]


def layer_of(module: str) -> str:
    """The layer name of a dotted biowear module (``"biowear"`` for the package's own ``__init__``)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "biowear"


def violation(imp: Import) -> str | None:
    """Why this import breaks the layering, or None when it is allowed."""
    src, dst = layer_of(imp.importer), layer_of(imp.target)
    if src in TOP_LEVEL:
        return "biowear.cli is imported only by biowear.cli" if dst == "cli" else None
    if dst == "cli" and src != "cli":
        return "biowear.cli is imported only by biowear.cli"
    if dst in TOP_LEVEL:
        return "the top-level API (biowear, biowear.api, biowear.testing) is imported by nothing below it"
    if src == "kernels" and dst != "kernels" and dst not in KERNELS_MAY_IMPORT:
        return f"biowear.kernels imports only biowear.{{{', '.join(sorted(KERNELS_MAY_IMPORT))}}}"
    if RANK[dst] > RANK[src]:
        return f"{src} imports {dst}, a layer above it"
    return None


def test_every_package_has_a_layer() -> None:
    unplaced = sorted({layer_of(module_name(p)) for p in PACKAGE.rglob("*.py")} - set(RANK))
    assert not unplaced, f"add these top-level modules/packages of biowear to LAYERS: {unplaced}"


def test_imports_follow_the_layers() -> None:
    found = [(imp, why) for imp in all_imports() if (why := violation(imp)) is not None]
    new = [f"{imp.where}  [{why}]" for imp, why in found if (imp.file, imp.target) not in KNOWN_VIOLATIONS]
    stale = KNOWN_VIOLATIONS - {(imp.file, imp.target) for imp, _ in found}
    if stale:
        warnings.warn(f"KNOWN_VIOLATIONS entries no longer found, remove them: {sorted(stale)}", stacklevel=1)
    assert not new, "imports against the layering:\n" + "\n".join(new)


def test_no_two_modules_import_each_other() -> None:
    imports = all_imports()
    edges = {(imp.importer, imp.target) for imp in imports}
    found = [imp for imp in imports if imp.importer != imp.target and (imp.target, imp.importer) in edges]
    new = [imp.where for imp in found if (imp.file, imp.target) not in KNOWN_CYCLES]
    stale = KNOWN_CYCLES - {(imp.file, imp.target) for imp in found}
    if stale:
        warnings.warn(f"KNOWN_CYCLES entries no longer found, remove them: {sorted(stale)}", stacklevel=1)
    assert not new, "modules that import each other:\n" + "\n".join(new)


@pytest.mark.parametrize("package", ["biowear.kernels", "biowear.signal", "biowear.data", "biowear.models"])
def test_importing_a_layer_loads_nothing_above_it(package: str) -> None:
    """At run time too: importing a package pulls in no module of a higher layer (e.g. data never loads bench)."""
    code = f"import sys, {package}; print(' '.join(m for m in sys.modules if m.startswith('biowear')))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    # the package's parents (biowear/__init__.py) always load first; the rest must sit at or below it
    above = sorted(m for m in loaded if m != "biowear" and RANK[layer_of(m)] > RANK[layer_of(package)])
    assert not above, f"import {package} loads {above}"


def test_known_violations_name_real_files() -> None:
    for file, target in KNOWN_VIOLATIONS | KNOWN_CYCLES:
        assert (REPO / file).is_file(), file
        assert target.startswith("biowear"), target


# --- the checker itself, on small synthetic packages ------------------------------------------------------


def _imp(importer: str, target: str) -> Import:
    return Import("f.py", 1, importer, target, f"import {target}")


@pytest.mark.parametrize(
    ("importer", "target", "allowed"),
    [
        ("biowear.signal.filters", "biowear.kernels.profiler", True),
        ("biowear.signal.filters", "biowear.bench.app", False),
        ("biowear.data.windows", "biowear.signal.filters", True),
        ("biowear.models.layers", "biowear.train.fit", False),
        ("biowear.bench.apps.cough", "biowear.train.fit", True),
        ("biowear.compress.sweep", "biowear.search.strategies", True),
        ("biowear.search.study", "biowear.compress.sweep", False),
        ("biowear.report.explore", "biowear.compress", True),
        ("biowear.report.explore", "biowear.cli.common", False),
        ("biowear.cli.explore", "biowear.cli.common", True),
        ("biowear.cli.explore", "biowear.api", False),
        ("biowear.cli.explore", "biowear", False),
        ("biowear.api", "biowear.cli", False),
        ("biowear.api", "biowear.report.explore", True),
        ("biowear", "biowear.api", True),
        ("biowear.kernels.fixed", "biowear.errors", True),
        ("biowear.kernels.fixed", "biowear.validate", False),
        ("biowear.kernels.profiler", "biowear.signal", False),
        ("biowear.registry", "biowear.errors", True),
    ],
)
def test_violation_rules(importer: str, target: str, allowed: bool) -> None:
    assert (violation(_imp(importer, target)) is None) is allowed


def test_imports_of_reads_every_form(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "src"
    pkg = root / "biowear" / "signal"
    pkg.mkdir(parents=True)
    (root / "biowear" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("from . import filters\n")
    (pkg / "rpeaks.py").write_text("")
    (pkg / "filters.py").write_text(
        "import numpy\n"
        "import biowear.data.windows as w\n"
        "from biowear.bench import apps\n"
        "from .rpeaks import detect\n"
        "from .. import errors\n"
        "def f():\n"
        "    from biowear.train.fit import fit\n"
        "    if True:\n"
        "        from biowear import cli\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "SRC", root)
    for dotted in ("bench/apps", "data", "train", "cli"):
        (root / "biowear" / dotted).mkdir(parents=True, exist_ok=True)
        (root / "biowear" / dotted / "__init__.py").write_text("")
    (root / "biowear" / "errors.py").write_text("")
    found = {(imp.line, imp.target) for imp in imports_of(pkg / "filters.py")}
    assert found == {
        (2, "biowear.data.windows"),
        (3, "biowear.bench.apps"),
        (4, "biowear.signal.rpeaks"),
        (5, "biowear.errors"),
        (7, "biowear.train.fit"),
        (9, "biowear.cli"),
    }
    assert {imp.target for imp in imports_of(pkg / "__init__.py")} == {"biowear.signal.filters"}
