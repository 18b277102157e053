"""Stored or untrusted text made safe to print on an operator's terminal.

A lesson, a model's answer, a plugin's failure reason or a sandboxed program's output can carry
terminal control sequences: ESC/CSI/OSC sequences (move the cursor, rewrite lines, set the
window title, write the clipboard with OSC 52), C1 controls (a single byte ``0x9b`` is a CSI on
some terminals), carriage returns that overwrite what was printed, and bidi overrides that make
text read differently from what it is. Printing such text raw lets whoever wrote it rewrite the
operator's screen. Every place the CLI prints text it did not write itself passes it through
:func:`printable` (or :func:`printable_json` for JSON it serialised with non-ASCII kept).

Plugins that print untrusted text (``purpose-agent sandbox run`` prints the jail's output) use
the same functions; this module is part of the public surface.
"""

from __future__ import annotations

import re
from functools import cache

# C0 controls except tab and newline, DEL, C1 controls, bidi embeddings/overrides/isolates and
# marks, the Unicode line and paragraph separators, and lone surrogates (which cannot even be
# encoded as UTF-8 and would end the program with UnicodeEncodeError).
_UNSAFE = "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
_UNSAFE_WITH_LINES = _UNSAFE[:1] + "\t\n" + _UNSAFE[1:]
# In JSON text every C0 control is already escaped by the serialiser; the rest may appear raw.
_UNSAFE_IN_JSON = "[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    # compiled on first use: each of these character classes costs as much to compile as a
    # small module costs to import, and most programs print only plain text
    return re.compile(pattern)


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def printable(text: object, *, one_line: bool = False) -> str:
    """``text`` with every control character shown as a visible escape (``\\x1b``, ``\\u202e``).

    Tabs and newlines are kept unless ``one_line`` is true (then they are escaped too, for table
    cells and one-line summaries). Everything else printable, any script included, is unchanged.
    """
    value = text if isinstance(text, str) else str(text)
    if value.isascii() and value.isprintable():  # the usual case: nothing to escape
        return value
    return _compiled(_UNSAFE_WITH_LINES if one_line else _UNSAFE).sub(_visible, value)


def printable_json(serialised: str) -> str:
    """JSON text with C1 controls, bidi controls and lone surrogates written as ``\\uXXXX``.

    For JSON produced with non-ASCII characters kept (pydantic's ``model_dump_json``): the result
    parses to exactly the same value, and prints safely.
    """
    return _compiled(_UNSAFE_IN_JSON).sub(_json_escape, serialised)
