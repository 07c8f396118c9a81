"""Every third-party module that ``src/biowear`` imports is declared in ``pyproject.toml``.

A dependency that only arrives through another package (``moocore`` through ``deap``) breaks the day that
package drops it. Imports are read with :mod:`ast` at any depth; standard-library modules
(:data:`sys.stdlib_module_names`) and biowear itself are skipped. Import names are mapped to distribution
names with :func:`importlib.metadata.packages_distributions` (``sklearn`` -> ``scikit-learn``), falling back
to a small table for optional extras that are not installed here.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "biowear"

#: Import name -> distribution name, for modules whose distribution is not installed in this environment.
KNOWN_DISTRIBUTIONS: dict[str, str] = {
    "sklearn": "scikit-learn",
    "torch_pruning": "torch-pruning",
    "yaml": "pyyaml",
    "PIL": "pillow",
    "onnxruntime": "onnxruntime",
}


def normalise(name: str) -> str:
    """PEP 503 normalised distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, f"unparseable requirement {requirement!r} in pyproject.toml"
    return normalise(match.group(1))


def declared_distributions() -> set[str]:
    """Distributions in ``[project] dependencies`` and every ``[project.optional-dependencies]`` extra."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        requirements.extend(extra)
    return {requirement_name(r) for r in requirements}


def third_party_imports() -> dict[str, list[str]]:
    """Top-level third-party module -> the ``file:line`` places that import it."""
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in {"biowear", "__future__"}:
                    continue
                found.setdefault(top, []).append(f"{path.relative_to(REPO).as_posix()}:{node.lineno}")
    return found


def distributions_of(module: str, installed: dict[str, list[str]]) -> set[str]:
    if module in installed:
        return {normalise(d) for d in installed[module]}
    return {normalise(KNOWN_DISTRIBUTIONS.get(module, module))}


def test_every_third_party_import_is_declared() -> None:
    declared = declared_distributions()
    installed = importlib.metadata.packages_distributions()
    undeclared = {
        module: places
        for module, places in sorted(third_party_imports().items())
        if not distributions_of(module, installed) & declared
    }
    assert not undeclared, "imported but not declared in pyproject.toml:\n" + "\n".join(
        f"{module} ({', '.join(sorted(distributions_of(module, installed)))}): {', '.join(places)}"
        for module, places in undeclared.items()
    )


def test_the_scan_sees_the_core_dependencies() -> None:
    found = third_party_imports()
    for module in ("numpy", "torch", "scipy", "sklearn", "moocore"):
        assert module in found, module
    assert not {"os", "typing", "biowear", "__future__"} & set(found)


def test_requirement_names_are_normalised() -> None:
    assert requirement_name("torch-pruning>=1.5") == "torch-pruning"
    assert requirement_name("scikit_learn[all] >= 1.4; python_version>'3'") == "scikit-learn"
    assert distributions_of("sklearn", {}) == {"scikit-learn"}
    assert distributions_of("yaml", {"yaml": ["PyYAML"]}) == {"pyyaml"}
