"""The ``biowear`` command line: thin parsing, progress display and printing around the library."""

from __future__ import annotations

import logging
import sys

from biowear.cli import bench, compress, data, explore, train  # noqa: F401 - registers the commands
from biowear.cli.common import app, console
from biowear.errors import BiowearError

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point: library errors become one-line messages with exit status 2."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app(standalone_mode=True)
    except BiowearError as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)
