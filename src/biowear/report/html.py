"""A small, dependency-free HTML rendering of the reports' Markdown: headings, paragraphs, pipe tables, images,
``code`` spans and **bold**. Wide tables scroll inside their own box instead of widening the page."""

from __future__ import annotations

import html
import re

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em}
.table-wrap{overflow-x:auto;max-width:100%;margin:0.6em 0}
table{border-collapse:collapse;font-size:0.85em}
td,th{border:1px solid #ccc;padding:3px 7px;text-align:right;vertical-align:top}
th{background:#f3f3f3;white-space:normal}
td:first-child,th:first-child{text-align:left;min-width:7em;max-width:22em}
code{font-family:ui-monospace,monospace;font-size:0.92em;background:#f3f3f3;padding:0 0.25em;border-radius:3px}
p.warning{background:#fff4e0;border-left:4px solid #e69500;padding:0.5em 0.8em}
p.synthetic{color:#b35c00}
img{max-width:100%;height:auto;display:block;margin:0.8em 0}
""".strip()

_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def inline(text: str) -> str:
    """Escape ``text`` for HTML and render its Markdown ``code`` spans and **bold** runs."""
    parts = []
    last = 0
    for m in _CODE.finditer(text):
        parts.append(_BOLD.sub(r"<strong>\1</strong>", html.escape(text[last : m.start()], quote=False)))
        parts.append(f"<code>{html.escape(m.group(1), quote=False)}</code>")
        last = m.end()
    parts.append(_BOLD.sub(r"<strong>\1</strong>", html.escape(text[last:], quote=False)))
    return "".join(parts)


def _row(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def markdown_to_html(markdown: str, title: str) -> str:
    """A standalone HTML page of ``markdown`` (the subset the reports write)."""
    out = [
        "<!doctype html>",
        f"<html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
    ]
    table: list[list[str]] = []

    def flush() -> None:
        if not table:
            return
        head, *body = table
        out.append("<div class='table-wrap'><table>")
        out.append("<thead><tr>" + "".join(f"<th>{inline(c)}</th>" for c in head) + "</tr></thead><tbody>")
        out.extend("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in row) + "</tr>" for row in body)
        out.append("</tbody></table></div>")
        table.clear()

    for line in markdown.splitlines():
        if line.startswith("|"):
            cells = _row(line)
            if not all(set(c) <= {"-", ":"} and c for c in cells):  # skip the |---| separator row
                table.append(cells)
            continue
        flush()
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{inline(line.lstrip('#').strip())}</h{level}>")
        elif line.startswith("!["):
            alt = line[2 : line.index("]")]
            src = line[line.index("(") + 1 : line.rindex(")")]
            out.append(f"<img src='{html.escape(src)}' alt='{html.escape(alt)}'>")
        elif line.strip():
            css = " class='warning'" if line.startswith("**Warning") else ""
            css = " class='synthetic'" if line.startswith("**SYNTHETIC") else css
            out.append(f"<p{css}>{inline(line)}</p>")
    flush()
    out.append("</body></html>")
    return "\n".join(out)
