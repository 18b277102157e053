"""Aligned text tables for the CLI's reports, coloured only where colour is wanted.

Colour follows the common conventions: only when the stream is a terminal, never when
``NO_COLOR`` is set to anything (https://no-color.org) or ``TERM`` is ``dumb``. Pipes, files and
tests therefore always get plain text.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from ..terminal_text import printable

#: ANSI SGR codes for the status words the reports use.
GREEN, YELLOW, RED, DIM, BOLD = "32", "33", "31", "2", "1"


class Styled(NamedTuple):
    """A table cell with an ANSI SGR code (``"31"`` is red) applied when colour is on."""

    text: str
    sgr: str = ""


def colour_wanted(stream: Any, environ: Mapping[str, str] | None = None) -> bool:
    """Whether to colour output written to ``stream``."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR") or env.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty is not None and isatty())
    except ValueError:  # a closed stream
        return False


def render_table(
    header: Sequence[str], rows: Sequence[Sequence[str | Styled]], *, colour: bool = False, indent: str = ""
) -> list[str]:
    """The lines of a table: columns padded to their widest cell, two spaces apart.

    The last column is not padded, so a long detail there does not push trailing spaces. Padding
    is computed on the text alone, so coloured and plain tables line up the same way.
    """
    table = [[Styled(h, BOLD) for h in header]]
    # cells quote plugin reasons and provider details: control characters are shown, not obeyed
    table += [[Styled(printable(cell.text, one_line=True), cell.sgr) if isinstance(cell, Styled)
               else Styled(printable(str(cell), one_line=True)) for cell in row] for row in rows]
    widths = [max(len(row[i].text) for row in table) for i in range(len(header))]
    lines = []
    for row in table:
        parts = []
        for i, cell in enumerate(row):
            text = cell.text if i == len(row) - 1 else cell.text.ljust(widths[i])
            parts.append(f"\x1b[{cell.sgr}m{text}\x1b[0m" if colour and cell.sgr else text)
        lines.append((indent + "  ".join(parts)).rstrip())
    return lines
