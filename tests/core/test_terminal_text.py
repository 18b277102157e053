"""printable(): the plain-text shortcut gives what the full escape gives, for every ASCII character."""

from __future__ import annotations

import re

import pytest

from purpose_agent.terminal_text import _UNSAFE, _UNSAFE_WITH_LINES, _visible, printable


@pytest.mark.parametrize("one_line", [False, True])
def test_every_ascii_character_and_some_others_escape_as_the_pattern_says(one_line: bool) -> None:
    pattern = re.compile(_UNSAFE_WITH_LINES if one_line else _UNSAFE)
    samples = [chr(code) for code in range(128)] + ["plain words", "tab\there", "line\nbreak", "\x1b[2J",
                                                     "caf\u00e9", "\u202eevil", "\x9b", "\ud800", "日本語"]
    for text in samples:
        assert printable(text, one_line=one_line) == pattern.sub(_visible, text), repr(text)
    assert printable("\x1b[31m", one_line=one_line) == "\\x1b[31m"
