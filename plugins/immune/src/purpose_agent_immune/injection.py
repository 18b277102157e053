"""Plugin ``immune-injection``: prompt injection, direct and hidden in data.

The rules are data: ``rules/injection/<family>.toml``, one file per attack family, built from the
named word lists of ``rules/injection/vocabulary.toml`` (see :mod:`.rulefiles` and
``docs/immune.md``). This module holds the scanner and the detector functions for what a pattern
cannot express (decoders, look-alike letters, dialogue turns, question runs, repeated tokens).

The detectors look for the *grammar* of an injection rather than known strings:

* an override verb aimed at the agent's instructions ("ignore / disregard / forget … previous
  instructions"), in several languages;
* a new identity or mode for the assistant ("you are now …", "developer mode", role markers of
  chat templates such as ``<|im_start|>system``);
* requests for the hidden prompt or secrets, and for someone's personal data;
* directives aimed at the assistant's *output* that a legitimate lesson has no reason to give:
  obfuscate it (base64, reverse, cipher, emoji), slip foreign content or links into it;
* exfiltration: a transfer verb followed by an address or URL; markdown images whose URL carries
  data;
* hidden carriers: HTML comments that speak to the reader, invisible Unicode, encoded payloads
  that decode to instructions (base64, hex, binary, Caesar/ROT13), injections behind look-alike
  letters, leetspeak or zero-width characters;
* memory-specific: a lesson is advice for future tasks, so text that dictates the *reply to a
  user* (its language or persona, a forced answer, a claim to assert, a trigger phrase, made-up
  content) is out of place in it (``reply_control``); so are threats and bribes aimed at the
  model (``coercion``);
* forged structure: role labels that speak to the model, escaped-newline runs, ``… OVERRIDE``
  banners, Q/A transcripts and scripted dialogues that end on an open turn, retrieval frames
  ("Context: … Question: …"), a forged end of the data;
* the shape of a lesson (``LESSON_SHAPE_RULES``): a lesson names a kind of situation, so a
  one-off task about one topic, a request for the requester's own deliverable ("show me how to
  …", "how do I …?", "provide a list of …"), the translation of one phrase or a run of questions
  is out of place in it (``task_injection``, lessons only); so are conversational pivots,
  "… instead?", instructions declared void, limits declared gone, safeguards-off modes and games,
  and the same structures in German, French and Spanish;
* attack kinds (fifth round), written from a taxonomy of prompt injection rather than from data rows: prefix injection and
  refusal suppression, personas without rules (unrestricted or named AIs, role-play that
  answers everything, "imagine you are allowed"), fictional and hypothetical wrappers, sideways
  probes for the prompt or a secret (its first letter, a plea, a claim of right), other users'
  records, "never mind the above", forged vendors and clearances, text addressed to the AI that
  reads it, payloads split and reassembled, questions to the model where a lesson belongs, and
  the same kinds in more languages; reversed, Atbash, Morse, base32, decimal
  and escaped payloads are decoded and scanned again.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import urllib.parse
from bisect import bisect_right
from collections.abc import Iterator, Mapping
from functools import cache
from itertools import accumulate, islice, pairwise
from typing import Any

from .detectors import Context, DecodeBudget, Hit, Scanner, compile_linear, near_matches, normalized_view
from .rulefiles import load_rules

PURPOSE_AGENT_HOOK_API = "1.0"

NAME = "immune-injection"
#: The id ``purpose_agent.testing.make_kernel`` registers this module under (same as the entry point).
plugin_id = NAME


def rules() -> tuple:
    """The injection rules (``rules/injection/*.toml``), read on the first scan."""
    return load_rules("injection", normalized=True)


# ------------------------------------------------------------------ detector functions


def _question_barrage(text: str, context: Context) -> Iterator[Hit]:
    """Three or more questions in a lesson: a lesson states how to act, it does not quiz the model.

    Unrelated questions in a row are the "overload" attack (the model answers them all, the
    forbidden one included); a lesson that is a checklist of questions is rare.
    """
    marks = text.count("?")
    if context.source != "lesson" or marks < 3:
        return
    # three questions in a row (each within a few sentences of the last), not three scattered
    # through a long document; the search stops at the first such run
    ends: list[int] = []
    for match in _QUESTION_END.finditer(text):
        ends.append(match.end())
        if len(ends) >= 3 and ends[-1] - ends[-3] <= 2 * _QUESTION_GAP:
            start = max(0, ends[-3] - _QUESTION_GAP)
            yield Hit(
                "task_injection",
                "high",
                start,
                ends[-1],
                f"{marks} question marks, three questions in a row: questions put to the model where a lesson "
                "belongs (question overload)",
            )
            return


#: Questions further apart than this (characters) do not count as one run.
_QUESTION_GAP = 250
#: The end of a question: a question mark after a word, followed by a space or the end.
_QUESTION_END = re.compile(r"\w[\"'”’»)]?\s?\?(?=\s|$|[.\"'”’»])")


_ZERO_WIDTH = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u202a-\u202e\u2066-\u2069\U000e0000-\U000e007f]")


def _invisible_characters(text: str, context: Context) -> Iterator[Hit]:
    """Invisible or direction-changing characters: a reader cannot see what the model will."""
    found = _ZERO_WIDTH.findall(text)
    if not found:
        return
    first = _ZERO_WIDTH.search(text)
    assert first is not None
    tags = sum(1 for ch in found if ord(ch) >= 0xE0000)
    # Unicode tag characters spell hidden ASCII; a few zero-width joiners are normal in emoji.
    severity = "high" if tags or len(found) >= 3 else "low"
    yield Hit(
        "hidden_text",
        severity,
        first.start(),
        first.end(),
        f"contains {len(found)} invisible or direction-changing character(s) that can hide instructions",
    )


# ------------------------------------------------------------------ decoders: windows and the budget
#
# A decoder reads only what is suspicious: an encoded run (base64, hex, binary, decimal codes,
# Morse) is its own span, and a trigger word (a shifted, reversed or Atbash key word) or a cluster
# of escapes is decoded with a window of context around it, never the whole text. All decodings
# of one decoder are rescanned together, once, in blocks; a block that repeats is rescanned once.
# Every decoded character rescanned is charged to the scan's budget (:class:`DecodeBudget`, shared
# with the rescans of decodings); a decoder that would go over it stops and reports
# ``decode_budget`` (critical): the text is blocked, never waved through half read.

#: Characters decoded on each side of a trigger word: an injection sits near the words it needs,
#: and a text shorter than this is decoded whole wherever its trigger is.
_TRIGGER_CONTEXT = 2_000
#: Escapes are looked for per cell of this many characters; neighbouring cells with escapes form
#: one cluster, decoded with ``_ESCAPE_CONTEXT`` characters of context on each side.
_ESCAPE_CELL = 128
_ESCAPE_CONTEXT = 240
#: The longest escape ``_ESCAPE`` matches ("&#x10ffff;"): a cell's search reaches this far past it.
_LONGEST_ESCAPE = 10
#: Decodings are rescanned in blocks of at most this many characters, overlapping by more than any
#: rule's match, so a long decoding that repeats itself is rescanned once per distinct block.
_BLOCK = 4_096
_BLOCK_OVERLAP = 512
#: Bytes that are not ASCII word characters (RE2's ``\b`` is ASCII), as spaces: the words of a
#: text are then split in C (non-ASCII characters were encoded as "?", one byte each).
_NON_WORD_BYTES = bytes(c if (48 <= c <= 57 or 97 <= c <= 122 or c == 95) else 32 for c in range(256))
_WORD_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789_")


#: The rule id of a ``decode_budget`` finding, whichever decoder ran out.
_BUDGET_ID = "injection.decode-budget"


class _Decodings:
    """The decoded candidates of one decoder, cut into blocks as they come, repeats dropped.

    :meth:`add` says False once the distinct blocks would not fit in what is left of the scan's
    budget: the decoder stops decoding (it has already failed) and :meth:`verdict` reports it.
    """

    def __init__(self, budget: DecodeBudget) -> None:
        self.budget = budget
        self.candidates: list[tuple[int, int, str, str]] = []
        self.blocks: dict[str, int] = {}  # block -> index of the candidate it came from
        self.volume = 0
        self.over = False

    def add(self, start: int, end: int, plain: str, how: str) -> bool:
        """Keep one decoding of ``text[start:end]``; False once the budget cannot hold them all."""
        if self.over:
            return False
        if not plain:
            return True
        index = len(self.candidates)
        self.candidates.append((start, end, plain, how))
        step = _BLOCK - _BLOCK_OVERLAP
        for offset in range(0, max(len(plain) - _BLOCK_OVERLAP, 1), step):
            block = plain[offset : offset + _BLOCK]
            if block not in self.blocks:
                self.blocks[block] = index
                self.volume += len(block)
        if self.budget.used + self.volume > self.budget.limit:
            self.over = True
        return not self.over

    def verdict(self, context: Context, scanner: Scanner, what: str) -> Iterator[Hit]:
        """A high ``encoded_payload`` hit if a decoding reads as an injection; a critical
        ``decode_budget`` hit if the decodings do not fit in the budget (nothing rescanned then)."""
        if not self.candidates:
            return
        start, end = self.candidates[0][:2]
        if self.over or not self.budget.take(self.volume):
            yield Hit("decode_budget", "critical", start, end, self.budget.exceeded(NAME, self.volume), _BUDGET_ID)
            return
        blocks = list(self.blocks)
        starts = list(accumulate((len(block) + 2 for block in blocks), initial=0))
        inner = Context(source=context.source, scope_level=context.scope_level, budget=self.budget)
        strong = [hit for hit in scanner.hits("\n\n".join(blocks), inner) if hit.severity in ("high", "critical")]
        over = [hit for hit in strong if hit.category == "decode_budget"]
        if over:  # a decoding of a decoding did not fit: that is the reason, not an injection
            yield Hit("decode_budget", "critical", start, end, over[0].explanation, _BUDGET_ID)
            return
        if not strong:
            return
        first = min(hit.start for hit in strong)
        start, end, plain, how = self.candidates[self.blocks[blocks[bisect_right(starts, first) - 1]]]
        yield Hit("encoded_payload", "high", start, end, f"{how}{what} decodes to an injection: {plain[:80]!r}")


def _budget(context: Context) -> DecodeBudget:
    """The scan's budget (a detector called on its own gets a fresh one)."""
    return context.budget if context.budget is not None else DecodeBudget()


def _trigger_windows(text: str, triggers: Mapping[bytes, Any]) -> dict[Any, list[tuple[int, int, int, int]]]:
    """Per group of ``triggers`` (trigger word -> group), the windows of ``text`` to decode:
    ``(window start, window end, first trigger start, first trigger end)``, merged where they overlap.

    A trigger counts as a whole word in any case (ASCII word boundaries, as RE2's ``\\b``). The
    words are split in C; only a trigger the text holds as a word is then looked for with
    ``bytes.find``, occurrence by occurrence.
    """
    data, words = _ascii_words(text)
    present = words & triggers.keys()
    if not present:  # the common case: no trigger in the text
        return {}
    windows: dict[Any, list[tuple[int, int, int, int]]] = {}
    for word in sorted(present):
        windows.setdefault(triggers[word], []).extend(_word_windows(data, word))
    return {key: _merged(spans) for key, spans in windows.items()}


def _word_windows(data: bytes, word: bytes) -> Iterator[tuple[int, int, int, int]]:
    """The windows around the whole-word occurrences of ``word`` in ``data``, merged.

    Once a window is open, the search jumps to the last occurrence inside it (``bytes.rfind``),
    which extends it as far as every occurrence before would: a text made of the trigger costs
    one jump per window length, not one step per occurrence.
    """
    length, size = len(data), len(word)

    def whole(at: int) -> bool:
        return (at == 0 or data[at - 1] not in _WORD_BYTES) and (
            at + size == length or data[at + size] not in _WORD_BYTES
        )

    found = data.find(word)
    while found >= 0:
        if not whole(found):
            found = data.find(word, found + 1)
            continue
        first = last = found
        end = min(length, found + size + _TRIGGER_CONTEXT)
        while True:
            # the last whole occurrence that starts inside the window, if any, extends it
            later = data.rfind(word, last + 1, end + size)
            while later >= 0 and not whole(later):
                later = data.rfind(word, last + 1, later + size - 1)
            if later < 0:
                break
            last = later
            end = min(length, later + size + _TRIGGER_CONTEXT)
        yield (max(0, first - _TRIGGER_CONTEXT), end, first, first + size)
        found = data.find(word, end + 1)


# The last text's lower-case ASCII bytes and words: the Caesar, reversed and Atbash decoders look
# at the same text in a row.
_last_words: tuple[str, bytes, frozenset[bytes]] = ("", b"", frozenset())


def _ascii_words(text: str) -> tuple[bytes, frozenset[bytes]]:
    """``text`` as lower-case ASCII bytes, one byte per character (any other character is "?"),
    and its distinct ASCII words (runs of ``[a-z0-9_]``), split in C."""
    global _last_words
    if _last_words[0] is not text:
        data = text.encode("ascii", "replace").lower()
        _last_words = (text, data, frozenset(data.translate(_NON_WORD_BYTES).split()))  # one split in C
    return _last_words[1], _last_words[2]


def _merged(spans: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Overlapping windows made one, each keeping its first trigger."""
    merged: list[tuple[int, int, int, int]] = []
    for span in sorted(spans):
        if merged and span[0] <= merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], span[1]), last[2], last[3])
        else:
            merged.append(span)
    return merged


#: A run long enough to be an encoded payload: the cheap test (one RE2 pass) before the decoders.
_ENCODED_HINT = r"[A-Za-z0-9+/]{24}|(?:[0-9A-Fa-f]{2}[ :]?){16}"


@cache
def _linear(pattern: str) -> Any:
    """A detector's prefilter on RE2, compiled on first use (case-sensitive, as written)."""
    return compile_linear(pattern, case_sensitive=True, where="an injection detector's prefilter")


_BASE64_RUN = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{24,4000}={0,2}(?![A-Za-z0-9+/])")
_HEX_RUN = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}[ :]?){16,2000}(?![0-9A-Fa-f])")


def _decoded_payloads(text: str, context: Context) -> Iterator[Hit]:
    """Base64 or hex runs that decode to readable text which itself reads as an injection."""
    if _linear(_ENCODED_HINT).search(text) is None:
        return
    decodings = _Decodings(_budget(context))
    for pattern, decode, shape, after in _ENCODED_RUNS:
        # the runs' Python patterns start with a lookbehind, tried at every position: they run
        # only from where RE2 finds the start of a run long enough (:func:`near_matches`)
        for match in near_matches(_linear(shape), pattern, text, 0, after):
            chunk = match.group(0)
            if pattern is _BASE64_RUN and (chunk.lower() == chunk or chunk.upper() == chunk):
                # identifiers and hashes are single-case; real base64 mixes cases, base32 is upper-case
                if _BASE32_CHUNK.fullmatch(chunk) is None:
                    continue
                plain = _b32(chunk)
            else:
                plain = decode(chunk)
            if not plain or (
                not plain.isprintable() and sum(ch.isprintable() or ch.isspace() for ch in plain) < 0.95 * len(plain)
            ):
                continue
            if not decodings.add(match.start(), match.end(), plain, "an encoded string"):
                break
    # the full scanner (decoders included): a payload encoded twice is decoded twice, and every
    # decoding is charged to the same budget
    yield from decodings.verdict(context, SCANNER, "")


def _b64(chunk: str) -> str:
    try:
        return base64.b64decode(chunk + "=" * (-len(chunk) % 4), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return ""


_BASE32_CHUNK = re.compile(r"[A-Z2-7]+=*")


def _b32(chunk: str) -> str:
    try:
        return base64.b32decode(chunk.rstrip("=") + "=" * (-len(chunk.rstrip("=")) % 8)).decode("utf-8")
    except (binascii.Error, ValueError):
        return ""


def _hex(chunk: str) -> str:
    try:
        return bytes.fromhex(re.sub(r"[ :]", "", chunk)).decode("utf-8")
    except ValueError:
        return ""


#: Per encoding: its run pattern, its decoder, an RE2 shape, and how far past a match of the shape
#: a run may reach. Every run the pattern matches holds the shape from its first character (24
#: base64 characters, 16 hex pairs), so RE2's left-to-right search finds a match of the shape that
#: starts there or covers that character (an earlier match cannot end inside the run without
#: covering its start, which follows a character that is not part of a run); the run then ends
#: within 4,002 characters (base64 and "==") or 6,000 (2,000 pairs of three) of it.
_ENCODED_RUNS = (
    (_BASE64_RUN, _b64, r"[A-Za-z0-9+/]{24}", 4_002),
    (_HEX_RUN, _hex, r"(?:[0-9A-Fa-f]{2}[ :]?){16}", 6_000),
)


#: Printable ASCII as decimal character codes ("73 103 110 111 …").
_DECIMAL_RUN = re.compile(
    r"(?<![\d.])(?:(?:3[2-9]|[4-9]\d|1[01]\d|12[0-6])[ ,]+){7,2000}(?:3[2-9]|[4-9]\d|1[01]\d|12[0-6])(?![\d.])"
)
_BINARY_RUN = re.compile(r"(?<![01])(?:[01]{8}[ ,]?){6,2000}(?![01])")
#: What every match of the two run patterns contains (their bodies without the look-arounds).
_DECIMAL_CORE = r"(?:(?:3[2-9]|[4-9]\d|1[01]\d|12[0-6])[ ,]+){7}(?:3[2-9]|[4-9]\d|1[01]\d|12[0-6])"
_BINARY_CORE = r"(?:[01]{8}[ ,]?){6}"


def _bin(chunk: str) -> str:
    bits = re.findall(r"[01]{8}", chunk)
    try:
        return bytes(int(b, 2) for b in bits).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return ""


# Caesar-shifted text: look for a shifted form of a few words every injection needs, then decode
# a window around each with that shift and scan it. (ROT13 is one of the shifts.)
_CAESAR_KEYWORDS = ("ignore", "instructions", "previous", "disregard", "password", "forget", "system", "prompt")


def _shift(word: str, k: int) -> str:
    return "".join(chr((ord(c) - 97 + k) % 26 + 97) for c in word)


#: Each shifted key word (as bytes, how :func:`_trigger_windows` reads them) -> its shift.
_CAESAR_SHIFTS: dict[bytes, int] = {_shift(w, k).encode(): k for k in range(1, 26) for w in _CAESAR_KEYWORDS}


def _unshift(text: str, k: int) -> str:
    """``text`` with every ASCII letter shifted back by ``k`` (one ``str.translate``: C speed on long texts)."""
    lower, upper = "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    table = str.maketrans(lower + upper, lower[-k:] + lower[:-k] + upper[-k:] + upper[:-k])
    return text.translate(table)


def _shifted_payloads(text: str, context: Context) -> Iterator[Hit]:
    """Binary, decimal character codes or Caesar-shifted text that decodes to an injection."""
    decodings = _Decodings(_budget(context))
    # Each run pattern is tried (by Python's engine, which its look-arounds need) only when RE2
    # finds its core, which every run contains: most texts with digits have neither run.
    if "0" in text and "1" in text:
        for match in _BINARY_RUN.finditer(text) if _linear(_BINARY_CORE).search(text) else ():
            if not decodings.add(match.start(), match.end(), _bin(match.group(0)), "binary"):
                break
        for match in _DECIMAL_RUN.finditer(text) if _linear(_DECIMAL_CORE).search(text) else ():
            codes = re.findall(r"\d+", match.group(0))
            plain = "".join(chr(int(c)) for c in codes)
            if not decodings.add(match.start(), match.end(), plain, "character codes"):
                break
    for k, windows in sorted(_trigger_windows(text, _CAESAR_SHIFTS).items()):
        for start, end, first, last in windows:
            if not decodings.add(first, last, _unshift(text[start:end], k), f"Caesar shift {k}"):
                break
    yield from decodings.verdict(context, _RESCAN, " text")


# Reversed, Atbash, Morse or escaped text (token smuggling in forms the decoders above do not
# read): decoded, then scanned again with every rule. Base32 and decimal character codes are
# read by _decoded_payloads and _shifted_payloads, which already scan for long encoded runs.
_REVERSED_KEYWORDS = dict.fromkeys(
    word[::-1].encode()
    for word in (
        "ignore",
        "instructions",
        "previous",
        "disregard",
        "password",
        "forget",
        "system",
        "prompt",
        "secret",
        "reveal",
    )
)
_ATBASH = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA"
)
_ATBASH_KEYWORDS = dict.fromkeys(word.translate(_ATBASH).encode() for word in _CAESAR_KEYWORDS)
_MORSE_CODE = {
    ".-": "a", "-...": "b", "-.-.": "c", "-..": "d", ".": "e", "..-.": "f", "--.": "g", "....": "h", "..": "i",
    ".---": "j", "-.-": "k", ".-..": "l", "--": "m", "-.": "n", "---": "o", ".--.": "p", "--.-": "q", ".-.": "r",
    "...": "s", "-": "t", "..-": "u", "...-": "v", ".--": "w", "-..-": "x", "-.--": "y", "--..": "z",
    "-----": "0", ".----": "1", "..---": "2", "...--": "3", "....-": "4", ".....": "5", "-....": "6",
    "--...": "7", "---..": "8", "----.": "9", "..--..": "?", ".-.-.-": ".", "--..--": ",",
}  # fmt: skip
_MORSE_RUN = re.compile(r"(?<![\w.\-])(?:[.\-]{1,7}(?:[ \t]*/[ \t]*|[ \t]{1,3})){7,400}[.\-]{1,7}(?![\w.\-])")
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}|&#(?:x[0-9A-Fa-f]{1,6}|[0-9]{1,7});|\\u[0-9A-Fa-f]{4}|\\x[0-9A-Fa-f]{2}")
_BACKSLASH_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\x([0-9A-Fa-f]{2})")


def _morse(run: str) -> str:
    words = re.split(r"[ \t]*/[ \t]*|[ \t]{3}", run.strip())
    return " ".join("".join(_MORSE_CODE.get(letter, "") for letter in word.split()) for word in words)


def _unescape(text: str) -> str:
    text = _BACKSLASH_ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)
    return urllib.parse.unquote(html.unescape(text))


def _escape_windows(text: str) -> list[tuple[int, int, int, int]]:
    """The clusters of escapes, each with ``_ESCAPE_CONTEXT`` characters on both sides:
    ``(window start, window end, first escape start, first escape end)``.

    The text is cut into cells of ``_ESCAPE_CELL`` characters; neighbouring cells that hold an
    escape are one cluster, and a cluster counts when it holds two escapes or more.
    """
    windows: list[tuple[int, int, int, int]] = []
    length = len(text)
    cluster: list[int] = []  # [first escape start, first escape end, end of the last cell with an escape]
    # few escapes (one per four cells or fewer, counted in C): walked one by one; many: one
    # search per cell, so a text made of escapes costs no Python work per escape
    sparse = len(_ESCAPE.findall(text)) * 4 * _ESCAPE_CELL <= length
    for cell, found in _first_escape_per_cell(text, by_escape=sparse):
        reach = min(length, cell + _ESCAPE_CELL + _LONGEST_ESCAPE)
        if cluster and found.start() <= cluster[2] + _ESCAPE_CELL:
            cluster[2] = reach
        else:
            if cluster:
                windows.append(_escape_window(text, cluster))
            cluster = [found.start(), found.end(), reach]
    if cluster:
        windows.append(_escape_window(text, cluster))
    return [window for window in windows if window[0] >= 0]


def _first_escape_per_cell(text: str, by_escape: bool) -> Iterator[tuple[int, re.Match[str]]]:
    """Each cell of ``text`` that an escape starts in, with the first escape that starts there.

    ``by_escape`` walks the escapes of the text (escapes never overlap, so this finds what a
    search from each cell's start finds); otherwise each cell is searched.
    """
    if by_escape:
        previous = -1
        for found in _ESCAPE.finditer(text):
            cell = found.start() - found.start() % _ESCAPE_CELL
            if cell != previous:
                previous = cell
                yield cell, found
        return
    length = len(text)
    for cell in range(0, length, _ESCAPE_CELL):
        searched = _ESCAPE.search(text, cell, min(length, cell + _ESCAPE_CELL + _LONGEST_ESCAPE))
        if searched is not None and searched.start() < cell + _ESCAPE_CELL:
            yield cell, searched


def _escape_window(text: str, cluster: list[int]) -> tuple[int, int, int, int]:
    """One cluster's window, or a negative start when the cluster holds a single escape."""
    first_start, first_end, last_end = cluster
    if sum(1 for _ in islice(_ESCAPE.finditer(text, first_start, last_end), 2)) < 2:
        return (-1, -1, -1, -1)
    return (max(0, first_start - _ESCAPE_CONTEXT), min(len(text), last_end + _ESCAPE_CONTEXT), first_start, first_end)


def _unwrapped_payloads(text: str, context: Context) -> Iterator[Hit]:
    """Reversed, Atbash, Morse or percent / HTML / backslash-escaped text that decodes to an injection."""
    decodings = _Decodings(_budget(context))
    for keywords, decode, how in (
        (_REVERSED_KEYWORDS, lambda t: t[::-1], "reversed"),
        (_ATBASH_KEYWORDS, lambda t: t.translate(_ATBASH), "Atbash"),
    ):
        for windows in _trigger_windows(text, keywords).values():
            for start, end, first, last in windows:
                decodings.add(first, last, decode(text[start:end]), how)
    if ".- " in text or "-. " in text or " .-" in text or " -." in text:
        for match in _MORSE_RUN.finditer(text):
            if not decodings.add(match.start(), match.end(), _morse(match.group(0)), "Morse"):
                break
    if ("%" in text or "&#" in text or "\\u" in text or "\\x" in text) and sum(
        1 for _ in islice(_ESCAPE.finditer(text), 6)
    ) == 6:
        for start, end, first, last in _escape_windows(text):
            window = text[start:end]
            plain = _unescape(window)
            if plain != window and not decodings.add(first, last, plain, "escaped"):
                break
    yield from decodings.verdict(context, _RESCAN, " text")


# Look-alike letters, leetspeak, invisible characters and misspelt key words are undone by
# normalisation (.normalize) before the rules run; this check only names the disguise.
_INJECTION_WORD = re.compile(
    r"\b(?:ignore|disregard|forget|instructions?|prompt|password|system|override|jailbreak|reveal|secret)\b",
    re.IGNORECASE,
)


#: The words of :data:`_INJECTION_WORD`, and the characters between words (``\\W`` for ASCII).
_INJECTION_WORDS = frozenset(
    "ignore disregard forget instruction instructions prompt password system override jailbreak reveal secret".split()
)
_INJECTION_WORD_LENGTHS = frozenset(map(len, _INJECTION_WORDS))
_WORD_RUN = re.compile(r"\w+")
_ASCII_NON_WORD = str.maketrans({c: " " for c in range(128) if not (chr(c).isalnum() or c == 95)})


def _injection_words(text: str) -> set[str]:
    """The distinct matches of :data:`_INJECTION_WORD` in ``text.lower()``.

    For ASCII text the words are the whole runs of word characters, split in C (the pattern's
    ``\\b…\\b`` around words made of word characters); other text goes through the pattern,
    whose case-insensitive matching knows letters such as "ſ" and "K" that ASCII splitting does not.
    """
    lower = text.lower()
    if lower.isascii():
        return set(lower.translate(_ASCII_NON_WORD).split()) & _INJECTION_WORDS
    # The pattern's \b…\b matches whole runs of word characters: the runs are found in C (one
    # character class), and only a run outside ASCII is tried against the pattern.
    runs = set(_WORD_RUN.findall(lower))
    found = runs & _INJECTION_WORDS
    # case-insensitive matching in ``re`` pairs one character with one character, so only a run
    # as long as one of the words can match (on a megabyte of short foreign words this leaves
    # out most of the hundred thousand runs)
    found.update(
        run
        for run in runs
        if len(run) in _INJECTION_WORD_LENGTHS and not run.isascii() and _INJECTION_WORD.fullmatch(run)
    )
    return found


#: Occurrences of one word :func:`_all_whole_words` looks at before it reads every word instead.
_WHOLE_WORD_TRIES = 256


def _all_whole_words(text: str, wanted: set[str]) -> bool:
    """``wanted <= _injection_words(text)``, without listing every word of a long text: each
    wanted ASCII word is looked for with ``str.find`` and kept when it stands alone (no word
    character of ``re``'s ``\\w`` — letters, digits, "_" — touches it). A non-ASCII word, or one
    found inside longer words more than a few hundred times, is decided the long way."""
    lower = text.lower()
    for word in wanted:
        if not word.isascii():
            return wanted <= _injection_words(text)
        at = lower.find(word)
        for _ in range(_WHOLE_WORD_TRIES):
            if at < 0:
                return False  # not in the text as a word of its own
            before = lower[at - 1] if at else " "
            after = lower[at + len(word)] if at + len(word) < len(lower) else " "
            if not (before.isalnum() or before == "_" or after.isalnum() or after == "_"):
                break  # found standing alone
            at = lower.find(word, at + 1)
        else:
            return wanted <= _injection_words(text)
    return True


def _lookalike_text(text: str, context: Context) -> Iterator[Hit]:
    """An injection that only the normalised text shows: look-alike letters, leetspeak, invisible
    characters or misspellings hid its key words from a plain reading."""
    normal = context.normalized or normalized_view(text).text
    if normal == text:
        return
    # sets of strings built in C: no Python call per word on a long text
    revealed = _injection_words(normal)
    if not revealed or _all_whole_words(text, revealed):
        return  # normalising revealed no injection word: nothing is hidden
    inner = Context(source=context.source, scope_level=context.scope_level)
    hits = [hit for hit in _RESCAN_NORMALIZED.hits(normal, inner) if hit.severity in ("high", "critical")]
    if hits:
        yield Hit(
            "obfuscated_request",
            "high",
            0,
            min(len(text), 200),
            f"injection hidden behind look-alike characters: {normal[hits[0].start : hits[0].end][:80]!r}",
        )


_SPEAKER_LINE = re.compile(
    r"^[ \t]*([A-Z][\w'’-]{1,20})(?:\s+(?:asks|says|fragt|sagt|replies|antwortet))?\s*:[ \t]*(\S?)", re.MULTILINE
)


def _open_dialogue_turn(text: str, context: Context) -> Iterator[Hit]:
    """A scripted dialogue that ends on an empty turn for a character the text introduced.

    The model is asked to speak the next line *in character* (role-play used to get around its
    rules). A lesson has no reason to end on an open turn.
    """
    tail = text.rstrip()
    if not tail.endswith(":"):
        return
    if "\n" not in tail:
        yield from _open_inline_turn(tail)
        return
    lines = list(_SPEAKER_LINE.finditer(tail))
    if len(lines) < 2:
        return
    last = lines[-1]
    if last.group(2) or last.end() < len(tail):
        return  # the last speaker line has text after it: not an open turn
    name = last.group(1)
    spoken = [m for m in lines[:-1] if m.group(2) and m.group(1) != name]
    if spoken and re.search(rf"\b{re.escape(name)}\b", tail[: last.start()]):
        yield Hit(
            "few_shot_forgery",
            "high",
            spoken[-1].start(),
            len(tail),
            f"a scripted dialogue that ends on an open turn for {name!r} (the model is to answer in character)",
        )


_LAST_SPEAKER = re.compile(r"(?:^|[\s.!?\"”'])([A-Z][\w'’-]{1,20})\s*:$")
_QUOTED_LINE = re.compile(r"(?:asks?|says?|said|replies|fragt|sagt|antwortet|:)\s*[\"“„«]")


def _open_inline_turn(tail: str) -> Iterator[Hit]:
    """The one-line form: a story sets up characters, quotes one, and ends on "Name:" for the model.

    The name must have been introduced earlier in the text and someone must have been quoted
    before it (the model is to speak the next line in character).
    """
    last = _LAST_SPEAKER.search(tail)
    if last is None:
        return
    name = last.group(1)
    before = tail[: last.start(1)]
    if re.search(rf"\b{re.escape(name)}\b", before) and _QUOTED_LINE.search(before):
        yield Hit(
            "few_shot_forgery",
            "high",
            max(0, last.start(1) - 200),
            len(tail),
            f"a scene that quotes one character and ends on an open turn for {name!r} (the model is to answer in character)",
        )


def _open_question_transcript(text: str, context: Context) -> Iterator[Hit]:
    """Answered ``Q:``/``A:`` turns followed by a last ``Q:`` left open for the model to answer.

    A forged transcript steers the model (few-/many-shot); a lesson that is an FAQ answers every
    question it asks.
    """
    last_q = text.rfind("Q: ")
    if last_q <= 0 or "A: " in text[last_q:]:
        return
    head = text[:last_q]
    if head.count("Q: ") >= 1 and head.count("A: ") >= 1 and head.find("Q: ") < head.find("A: "):
        yield Hit(
            "few_shot_forgery",
            "high",
            head.find("Q: "),
            min(len(text), head.find("Q: ") + 200),
            "a forged Q/A transcript that ends on an open question for the model to answer",
        )


#: Fifteen or more single characters separated by whitespace, as a whole run. On RE2: Python's
#: engine took quadratic time on a long run of spaced letters that ended in a longer word.
_SPACED = r"(?:^|\s)(?:\w\s){14,}\w(?:\s|$)"


@cache
def _spaced_pattern() -> Any:
    return compile_linear(_SPACED, where="the spaced-letters detector")


def _spaced_letters(text: str, context: Context) -> Iterator[Hit]:
    """Fifteen or more single characters separated by spaces: text spelled out to dodge filters."""
    match = _spaced_pattern().search(text)
    if match is None:
        return
    start, end = match.span()
    run = match.group(0)
    start += len(run) - len(run.lstrip())
    end -= len(run) - len(run.rstrip())
    if sum(ch.isalpha() for ch in text[start:end]) >= 12:
        yield Hit(
            "obfuscated_request",
            "high",
            start,
            end,
            "text spelled out letter by letter to evade filters",
        )


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _repeated_tokens(text: str, context: Context) -> Iterator[Hit]:
    """The same token twenty or more times in a row: a flooding trick to push a model off its prompt.

    Medium in data (tables and logs repeat values), high in a lesson: advice has no reason to
    repeat one token twenty times. A token is a whitespace-separated word of at most 30
    characters that starts and ends with a letter, digit or underscore. One pass over the words
    (a backreference pattern cannot run on RE2, and Python's took half a second per megabyte).
    """
    tokens = text.split()
    if len(tokens) - len(set(tokens)) < 19:
        return  # fewer than 19 repeated tokens in total: no run of 20 is possible
    run, flood = 1, ""
    for previous, token in pairwise(tokens):
        if token != previous:
            run = 1
            continue
        run += 1
        # the token is checked once per run, when it reaches twenty
        if run == 20 and len(token) <= 30 and _is_word_char(token[0]) and _is_word_char(token[-1]):
            flood = token
            break
    if not flood:
        return
    word = re.escape(flood)
    # linear: a literal word, and the search stops at the first run of twenty
    match = re.search(rf"(?<!\S){word}(?:\s+{word}(?!\S)){{19}}", text)
    if match:
        severity = "high" if context.source == "lesson" else "medium"
        yield Hit(
            "flooding", severity, match.start(), match.end(), "the same token repeated 20+ times (context flooding)"
        )


# ------------------------------------------------------------------ the scanner

CATEGORIES = {
    "instruction_override": "ignore / forget / replace the agent's instructions (many languages)",
    "persona_hijack": "a new identity or an unrestricted mode for the assistant",
    "role_marker": "forged chat-template or conversation role markers",
    "prompt_extraction": "requests for the hidden prompt, passwords or secrets",
    "data_extraction": "requests for a named person's personal data",
    "output_manipulation": "directives that disguise the reply or slip foreign content or code into it",
    "exfiltration": "sending data to an outside address; data-carrying image links",
    "link_injection": "calls to action pointing at links, lures",
    "hidden_instruction": "instructions in HTML comments or hypothetical framings",
    "hidden_text": "invisible or direction-changing Unicode",
    "encoded_payload": "base64 / hex strings that decode to an injection",
    "addressed_to_ai": "text that speaks to the AI reading it",
    "authority_claim": "claims to be the assistant's developer, creator or operator",
    "payload_splitting": "a request split into pieces to reassemble",
    "obfuscated_request": "asks to decode a hidden message",
    "few_shot_forgery": "forged Q/A turns that steer the model",
    "flooding": "repeated tokens that push the prompt out of context (high in a lesson, medium elsewhere)",
    "reply_control": "a lesson that dictates the reply to the user: its language or persona, a forced answer, a claim, a trigger phrase, made-up content",
    "coercion": "threats or bribes aimed at the model",
    "opinion_request": "asks the model for its own opinion (medium; high together with a persona or hypothetical framing)",
    "task_injection": "a one-off task, a request for one's own deliverable, a translation of one phrase or a string of questions where a lesson belongs (lessons only)",
    "combined_signals": "several weak signals in one text",
    "decode_budget": "decoding the text needs more than the decode budget allows: blocked unread (critical; cannot be switched off, raise decode_budget_chars)",
}

SCANNER = Scanner(
    name=NAME,
    categories=CATEGORIES,
    rules=rules,
    functions=[
        _question_barrage,
        _invisible_characters,
        _spaced_letters,
        _repeated_tokens,
        _decoded_payloads,
        _shifted_payloads,
        _unwrapped_payloads,
        _lookalike_text,
        _open_dialogue_turn,
        _open_question_transcript,
    ],
    combine=(2, "combined_signals", "high", "several weak injection signals together"),
    normalize=True,
    decodes=True,
)

#: What decoded or normalised text is scanned with: every rule, but none of the decoders, so a
#: text whose decoding contains another encoding (a Caesar shift of a Caesar shift, which is the
#: text again) cannot recurse without end.
_RESCAN = Scanner(
    name=NAME,
    categories=CATEGORIES,
    rules=rules,
    functions=[_invisible_characters, _spaced_letters],
    combine=SCANNER.combine,
    normalize=True,
)

#: The rules alone, for a text that is already normalised (the look-alike check's rescan).
_RESCAN_NORMALIZED = Scanner(name=NAME, categories=CATEGORIES, rules=rules, combine=SCANNER.combine)
