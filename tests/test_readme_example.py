"""The README's Python API example runs as written (in a temporary folder) and does what it says."""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _example() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- api-example -->\s*```python\n(.*?)```\s*<!-- /api-example -->", text, re.S)
    assert match, "README.md lost its <!-- api-example --> python block"
    return match.group(1)


def test_readme_api_example_runs(tmp_path):
    code = _example()
    assert len(code.strip().splitlines()) <= 18
    cwd = os.getcwd()
    os.chdir(tmp_path)
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, "README.md", "exec"), {"__name__": "readme_example"})
        again = io.StringIO()
        with contextlib.redirect_stdout(again):  # a second run resumes: the same front, nothing retrained
            exec(compile(code, "README.md", "exec"), {"__name__": "readme_example"})
    finally:
        os.chdir(cwd)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("[('blocks=") and "x smaller, MAE" in lines[1]
    assert again.getvalue().splitlines()[0] == lines[0]
    assert (tmp_path / "runs/api/small.pt").is_file() and (tmp_path / "runs/api/store.sqlite").is_file()
    assert not any(p for p in tmp_path.iterdir() if p.name != "runs")  # nothing written outside runs/
