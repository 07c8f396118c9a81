"""Static worst-case stack depth of a C function from GCC's ``-fcallgraph-info=su`` / ``-fstack-usage`` files.

GCC writes, per object, a ``.ci`` call graph (VCG text: one ``node`` per function whose label ends in
``N bytes (static|dynamic|dynamic,bounded)`` when its frame is known, one ``edge`` per call site) and a ``.su``
table (``file:line:col:function<TAB>bytes<TAB>kind``). The worst stack of a root function is its frame plus the
largest worst stack among its callees, recursively; functions defined in no analysed object (libc, libgcc
helpers) have no frame information and count as 0 bytes, and are reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from biowear.errors import ConfigError

__all__ = ["StackEstimate", "worst_stack"]

_NODE = re.compile(r'node:\s*\{\s*title:\s*"([^"]+)"\s*label:\s*"([^"]*)"')
_EDGE = re.compile(r'edge:\s*\{\s*sourcename:\s*"([^"]+)"\s*targetname:\s*"([^"]+)"')
_FRAME = re.compile(r"(\d+) bytes \(([a-z,]+)\)")


@dataclass(frozen=True)
class StackEstimate:
    """Worst-case stack of ``root`` in bytes along ``path`` (root first). ``exact`` is False when the graph
    reaches functions without frame information (``unknown_callees``) or dynamic frames, or when only the
    root's own frame was available (no call graph)."""

    root: str
    bytes: int
    exact: bool
    path: tuple[str, ...]
    unknown_callees: tuple[str, ...]


def _parse_ci(files: list[Path]) -> tuple[dict[str, tuple[int, bool]], dict[str, set[str]]]:
    frames: dict[str, tuple[int, bool]] = {}
    calls: dict[str, set[str]] = {}
    for path in files:
        text = path.read_text(errors="replace")
        for title, label in _NODE.findall(text):
            m = _FRAME.search(label)
            if m:
                frames[title] = (int(m.group(1)), m.group(2) == "static")
        for src, dst in _EDGE.findall(text):
            calls.setdefault(src, set()).add(dst)
    return frames, calls


def _su_frame(files: list[Path], root: str) -> tuple[int, bool] | None:
    for path in files:
        for line in path.read_text(errors="replace").splitlines():
            parts = line.split("\t")
            if len(parts) >= 3 and parts[0].rsplit(":", 1)[-1] == root:
                return int(parts[1]), parts[2].strip() == "static"
    return None


def worst_stack(build_dir: Path, root: str = "model_run") -> StackEstimate:
    """Worst-case stack of ``root`` from the ``.ci`` (preferred) or ``.su`` files in ``build_dir``."""
    build_dir = Path(build_dir)
    ci = sorted(build_dir.glob("*.ci"))
    frames, calls = _parse_ci(ci)
    if root not in frames:
        su = _su_frame(sorted(build_dir.glob("*.su")), root)
        if su is None:
            raise ConfigError(f"no stack-usage information for {root} in {build_dir} (build with -fstack-usage)")
        return StackEstimate(root, su[0], False, (root,), ("(no call graph: -fcallgraph-info unsupported)",))
    unknown: set[str] = set()
    dynamic = False
    memo: dict[str, tuple[int, tuple[str, ...]]] = {}

    def walk(fn: str, active: tuple[str, ...]) -> tuple[int, tuple[str, ...]]:
        nonlocal dynamic
        if fn in active:
            raise ConfigError(f"recursion in the call graph of {root}: {' -> '.join((*active, fn))}")
        if fn in memo:
            return memo[fn]
        if fn not in frames:
            unknown.add(fn.rsplit(":", 1)[-1])
            return 0, (fn,)
        own, static = frames[fn]
        dynamic = dynamic or not static
        best: tuple[int, tuple[str, ...]] = (0, ())
        for callee in sorted(calls.get(fn, ())):
            best = max(best, walk(callee, (*active, fn)), key=lambda r: r[0])
        memo[fn] = (own + best[0], (fn, *best[1]))
        return memo[fn]

    total, path = walk(root, ())
    names = tuple(p.rsplit(":", 1)[-1] for p in path)
    return StackEstimate(root, total, not unknown and not dynamic, names, tuple(sorted(unknown)))
