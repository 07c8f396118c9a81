"""Start-up of the command line: ``--help`` and ``data list`` import neither torch, scipy nor scikit-learn."""

from __future__ import annotations

import inspect
import subprocess
import sys
from importlib import import_module

HEAVY = ("torch", "scipy", "sklearn")


def _heavy_after(code: str) -> list[str]:
    script = f"{code}\nimport sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    return run.stdout.split("\n")[-2].split()


def test_importing_the_cli_loads_no_heavy_library():
    assert _heavy_after("import biowear.cli\nfrom biowear.cli import main") == []


def test_top_level_help_loads_no_heavy_library_and_lists_every_command():
    code = (
        "import sys\nfrom biowear.cli import main\nsys.argv = ['biowear', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
    )
    assert _heavy_after(code) == []
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    from biowear.cli import COMMANDS

    for name in COMMANDS:
        assert name in run.stdout


def test_data_list_loads_no_heavy_library():
    code = (
        "import sys\nfrom biowear.cli import main\nsys.argv = ['biowear', 'data', 'list']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
    )
    assert _heavy_after(code) == []


def test_the_command_table_matches_the_commands():
    from typer.main import get_command_name

    from biowear.cli import COMMANDS, app

    real = {c.name or get_command_name(c.callback.__name__): c.callback for c in app.registered_commands}
    groups = {g.name: g.typer_instance.info.help for g in app.registered_groups}
    assert set(real) | set(groups) == set(COMMANDS)
    for name, (module, text) in COMMANDS.items():
        import_module(module)
        if name in groups:
            assert groups[name] == text
        else:
            assert real[name].__module__ == module
            assert inspect.getdoc(real[name]).split("\n\n")[0].split() == text.split()
