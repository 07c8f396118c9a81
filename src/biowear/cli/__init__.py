"""The ``biowear`` command line: thin parsing, progress display and printing around the library.

Start-up stays fast: :func:`main` imports only the module of the command being run (its help texts read the
registries, which load numpy/torch); the other commands are listed from :data:`COMMANDS`. ``biowear.cli.app``
(for tests and embedding) is built with every command on first access.
"""

from __future__ import annotations

import errno
import logging
import sys
from importlib import import_module
from typing import Any

from biowear.errors import BiowearError

__all__ = ["COMMANDS", "app", "error_message", "main"]

#: Command name -> (module registering it, its help in the top-level listing: the docstring's first paragraph).
COMMANDS: dict[str, tuple[str, str]] = {
    "bench": (
        "biowear.cli.bench",
        "Run the BiomedBench applications: per-phase/per-kernel profiles, fixed point, MCU energy estimates.",
    ),
    "compress": (
        "biowear.cli.compress",
        "Prune (importance x scope; one-shot, iterative or multistage), k-means quantise and both, int8 and\n"
        "structured pruning; measure each; report the front.",
    ),
    "train": (
        "biowear.cli.train",
        "Train and evaluate one network of any registered family (classification or regression); print metrics\n"
        "and hardware cost.",
    ),
    "cost": (
        "biowear.cli.train",
        "Print the exact cost of architectures, or how many grid points satisfy parameter caps.",
    ),
    "explore": (
        "biowear.cli.explore",
        "Explore the architecture space with one strategy; resumable; writes a report.",
    ),
    "compare": (
        "biowear.cli.explore",
        "Run every registered strategy over one study (sharing trained networks) and compare them with exhaustive.",
    ),
    "report": (
        "biowear.cli.explore",
        "Render plots and Markdown/HTML tables of a study from its store (no training; the store is only read).",
    ),
    "demo": (
        "biowear.cli.explore",
        "Offline demo on SYNTHETIC ECG: compare every search strategy on a small space (a front of several\n"
        "networks), report, compress the most accurate Pareto network, export it as int8 C, and list what was\n"
        "written.",
    ),
    "data": ("biowear.cli.data", "List, inspect and download datasets."),
    "export": (
        "biowear.cli.export",
        "Export a model as int8 C for a Cortex-M (bit-exact with the numpy reference) or as ONNX.",
    ),
    "predict": (
        "biowear.cli.predict",
        "Predict with a model file: one line per window (class or value), or a .csv/.npy file.",
    ),
    "hr": (
        "biowear.cli.hr",
        "Heart rate from wrist PPG + accelerometer: train the PULSE teacher and distilled student, evaluate\n"
        "leave one subject out, predict a recording.",
    ),
}

#: errno -> what to do about it (the first half of the message names the path and the system's reason).
_OS_HINTS: dict[int, str] = {
    errno.ENOSPC: "free some space and run the same command again (finished results are kept)",
    errno.EDQUOT: "free some space and run the same command again (finished results are kept)",
    errno.EACCES: "check its permissions or choose another folder",
    errno.EPERM: "check its permissions or choose another folder",
    errno.EROFS: "the file system is read-only; choose another folder",
    errno.ENOTDIR: "a file stands where a folder is needed; remove it or choose another path",
    errno.EISDIR: "a folder stands where a file is needed; choose a file path",
    errno.EEXIST: "a file already exists where a folder is needed; remove it or choose another path",
    errno.ENOENT: "check the path",
}


def error_message(exc: BaseException) -> str:
    """The one-line text shown for a user-facing failure (library error, file-system error, undecodable text)."""
    if isinstance(exc, UnicodeDecodeError):
        text = f"a file is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8"
    elif isinstance(exc, OSError) and not isinstance(exc, BiowearError):
        paths = " -> ".join(str(p) for p in (exc.filename, exc.filename2) if p is not None)
        reason = exc.strerror or str(exc) or type(exc).__name__
        hint = _OS_HINTS.get(exc.errno or 0, "")
        text = f"{paths + ': ' if paths else ''}{reason}" + (f"; {hint}" if hint else "")
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split("\n"))


def _fail(exc: BaseException) -> None:
    from rich.markup import escape

    from biowear.cli.common import console

    console.print(f"[bold red]error:[/] {escape(error_message(exc))}", highlight=False, soft_wrap=True)
    sys.exit(2)


def _command_of(args: list[str]) -> str | None:
    return next((a for a in args if not a.startswith("-")), None)


def _stub(ctx: Any) -> None:  # pragma: no cover - never run: main() loads the real command first
    raise BiowearError(f"command {ctx.info_name} is not loaded")


def _entry_app(command: str | None):
    """A Typer app holding the real command ``command`` (its module imported) and light stand-ins listing the
    others, so that ``--help`` and ``data list`` import neither torch nor the bench applications."""
    import typer
    from typer.main import get_command_name

    from biowear.cli.common import app as full

    if command in COMMANDS:
        import_module(COMMANDS[command][0])
    entry = typer.Typer(add_completion=False, no_args_is_help=True, help=full.info.help)
    entry.registered_commands = list(full.registered_commands)
    entry.registered_groups = list(full.registered_groups)
    present = {c.name or get_command_name(c.callback.__name__) for c in full.registered_commands if c.callback}
    present |= {g.name for g in full.registered_groups}
    for name, (_, text) in COMMANDS.items():
        if name not in present:
            settings = {"ignore_unknown_options": True, "allow_extra_args": True}
            entry.command(name, help=" ".join(text.split()), context_settings=settings, add_help_option=False)(_stub)
    return entry


def main() -> None:
    """Console-script entry point: every user-facing failure becomes one ``error:`` line with exit status 2."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        _entry_app(_command_of(sys.argv[1:]))(standalone_mode=True)
    except (BiowearError, OSError, UnicodeDecodeError) as exc:
        _fail(exc)


def __getattr__(name: str) -> Any:
    if name == "app":
        for module, _ in COMMANDS.values():
            import_module(module)
        from biowear.cli.common import app as full

        return full
    raise AttributeError(f"module 'biowear.cli' has no attribute {name!r}")
