"""Text normalisation before matching: the text the immune rules read instead of the raw text.

An attacker hides a known injection from pattern rules by changing how it is written, not what it
says: soft hyphens, zero-width or control characters inside words, combining marks ("ìgnörë",
Zalgo text), fullwidth or mathematical letters ("ｉｇｎｏｒｅ", "𝐢𝐠𝐧𝐨𝐫𝐞"), Cyrillic or Greek
look-alikes ("іgnоrе"), misspelt key words ("ignroe all previus instrutions") and leetspeak
("1gn0r3"). :func:`normalize` undoes these, in this order:

1. Unicode NFKC (fullwidth and mathematical letters, ligatures, circled letters, compatibility
   forms), per character cluster so every output character still knows where it came from.
2. Invisible characters are removed: every format character (category Cf: soft hyphen,
   zero-width characters, bidi marks and overrides, tag characters), every control character
   except the whitespace ones, variation selectors, the Hangul fillers and the Arabic tatweel
   (a stretching stroke: ``تجـــاهل`` is ``تجاهل``). Tab, CR, VT, FF, NEL, the line and paragraph
   separators, every space separator and the braille blank (U+2800, drawn as a space) become
   whitespace.
3. Combining marks are dropped where the base letter is Latin, Greek or Cyrillic (or ASCII):
   "ìgnörë" → "ignore", "αγνόησε" → "αγνοησε". Marks that spell other scripts stay: Devanagari,
   Thai, Hebrew and Arabic vowel signs, kana voicing marks. The Cyrillic letters й, ї and ў keep
   their marks (they are letters of their own; ё folds to е as Russian writers do). Precomposed
   Latin letters without a decomposition fold too (ø → o, ł → l, ı → i, small capitals ᴀ → a).
4. Look-alike letters of other scripts (Unicode's confusables, UTS #39) become the Latin letter
   they imitate, but only inside a word that mixes them with Latin letters or digits, or inside a
   word made only of look-alikes whose neighbours are Latin words: "іgnоrе" → "ignore" while a
   Russian or Greek sentence stays Russian or Greek.
5. Whitespace runs become one space, or one newline when the run holds a line break (blank lines
   collapse too).
6. A word within Damerau distance 1 (2 for key words of nine letters or more) of a vocabulary
   word becomes that word (the closest; a tie goes to the closer length, then alphabetically),
   unless it is a real word itself ("ignores", "signore", "content").
7. Leetspeak inside a word that has letters ("1gn0r3", "p@$$w0rd") becomes letters when the result
   is a vocabulary word or a known real word ("h2o", "v1.2" and "ipv6" stay as they are).

:meth:`Normalized.span` maps a span of the normalised text back to the original text, so a rule
that matches the normalised text still quotes what was written. :func:`fold` applies the
character-level steps (1-3) alone: a rule engine folds its literal patterns with it so that
"précédentes" in a rule matches "precedentes" in the normalised text.

Not handled here: letters spaced out one by one ("i g n o r e", another detector looks for
them), upside-down and reversed text, and encodings (base64, rot13; the decoders handle them).

Cost: every step is linear in the length of the text, built from single-character regular
expressions, ``str.translate`` and set operations (no pattern that can backtrack over a run), and
a text of printable ASCII with single spaces goes straight to steps 6-7. The tables for non-ASCII
text are built on the first call that needs them (a few milliseconds); the vocabulary index is
built once per vocabulary. Besides the standard library, the two-edit distances of step 6 are
computed by ``rapidfuzz`` (C++; many words at once through ``numpy``), imported with the first
vocabulary index.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache, partial
from itertools import accumulate, chain, compress, product, repeat
from operator import add, and_, contains, ge, is_not, itemgetter, le, methodcaller, ne, not_, sub
from typing import NamedTuple

__all__ = ["DEFAULT_VOCABULARY", "Normalized", "fold", "normalize"]


def _lazy(source: str) -> Callable[[], re.Pattern[str]]:
    """A pattern compiled on first use: the large character classes cost milliseconds to compile."""

    @lru_cache(maxsize=1)
    def compiled() -> re.Pattern[str]:
        return re.compile(source)

    return compiled


# ------------------------------------------------------------------ offset maps


class _IndexMap:
    """A stage that deleted characters.

    ``marked()`` gives the stage's input with every deleted character replaced by a NUL; it is
    computed, and the index from output to input characters built from it (with C-level
    iterators), on the first span asked for. Normalising itself only deletes, by the fastest means
    at hand, and spends no Python work per deleted character.
    """

    __slots__ = ("_index", "_marked", "input_length")

    def __init__(self, marked: Callable[[], str], input_length: int) -> None:
        self._marked = marked
        self._index: array[int] | None = None
        self.input_length = input_length

    def index(self) -> array[int]:
        if self._index is None:
            self._index = _kept_positions(self._marked())
        return self._index

    def span(self, start: int, end: int) -> tuple[int, int]:
        index = self.index()
        return index[start], index[end - 1] + 1

    def point(self, position: int) -> int:
        index = self.index()
        return index[position] if position < len(index) else self.input_length


#: From this length on, :func:`_kept_positions` finds the kept characters with numpy.
_ARRAY_INDEX_MIN = 4_096


def _kept_positions(marked: str) -> array[int]:
    """The positions of the characters of ``marked`` that are not the sentinel (NUL).

    A long text goes through a code-point array (UTF-32 in, one numpy comparison): about a
    quarter of the time of the C-level iterators (measured 27 vs 103 ms CPU for a megabyte on a
    loaded machine). A text with a lone surrogate, which UTF-32 cannot carry, takes the iterators.
    """
    if len(marked) >= _ARRAY_INDEX_MIN:
        try:
            data = marked.encode("utf-32-le")
        except UnicodeEncodeError:
            pass
        else:
            import numpy as np

            # the sentinel is code point 0: the kept characters are the non-zero code points
            kept = np.flatnonzero(np.frombuffer(data, dtype="<u4")).astype(np.int64, copy=False)
            positions: array[int] = array("q")
            positions.frombytes(kept.tobytes())
            return positions
    return array("q", compress(range(len(marked)), map(ne, marked, repeat(_SENTINEL))))


class _Edits(NamedTuple):
    """Replacements of input ranges, sorted and not overlapping, as three columns (built and
    applied with C-level iterators: a text may carry a hundred thousand of them)."""

    starts: list[int]
    ends: list[int]
    replacements: list[str]

    @classmethod
    def of(cls, edits: Iterable[tuple[int, int, str]]) -> _Edits:
        """The columns of ``(start, end, replacement)`` triples."""
        columns = tuple(map(list, zip(*edits, strict=True)))
        return cls(*columns) if columns else cls([], [], [])


class _EditMap:
    """A stage that replaced some input ranges by other strings and copied the rest.

    Edit ``k`` replaced input ``[starts[k], ends[k])`` by a string that sits at output
    ``[out_starts[k], out_ends[k])``; every character of it maps to that whole input range, and
    the characters between edits are copies. The output offsets are computed (with C-level
    iterators) on the first span asked for.
    """

    __slots__ = ("_out", "edits", "input_length", "output_length")

    def __init__(self, edits: _Edits, input_length: int, output_length: int) -> None:
        self.edits = edits
        self.input_length = input_length
        self.output_length = output_length
        self._out: tuple[list[int], list[int]] | None = None

    def out(self) -> tuple[list[int], list[int]]:
        """Where each replacement sits in the output: (starts, ends)."""
        if self._out is None:
            starts, ends, replacements = self.edits
            lengths = list(map(len, replacements))
            growth = map(sub, lengths, map(sub, ends, starts))
            out_starts = list(map(add, starts, accumulate(growth, initial=0)))
            self._out = (out_starts, list(map(add, out_starts, lengths)))
        return self._out

    def _locate(self, position: int) -> tuple[int, int]:
        """(start, end) in the input of output character ``position``."""
        out_starts, out_ends = self.out()
        k = bisect_right(out_starts, position) - 1
        if k < 0:
            return position, position + 1
        if position < out_ends[k]:
            return self.edits.starts[k], self.edits.ends[k]
        start = self.edits.ends[k] + position - out_ends[k]
        return start, start + 1

    def span(self, start: int, end: int) -> tuple[int, int]:
        return self._locate(start)[0], self._locate(end - 1)[1]

    def point(self, position: int) -> int:
        if position >= self.output_length:
            return self.input_length
        return self._locate(position)[0]


_SENTINEL = "\x00"  # never in a stage's input: step 2 removes every NUL first


def _edited(text: str, edits: _Edits, maps: list[_Map]) -> str:
    """``text`` with each edit applied."""
    starts, ends, replacements = edits
    if not starts:
        return text
    gaps = map(text.__getitem__, map(slice, chain((0,), ends), chain(starts, (len(text),))))
    output = "".join(chain.from_iterable(zip(gaps, chain(replacements, ("",)), strict=True)))
    maps.append(_EditMap(edits, len(text), len(output)))
    return output


def _deleted(text: str, pattern: re.Pattern[str], maps: list[_Map], *, runs: bool = False) -> str:
    """``text`` without what ``pattern`` matches: one character per match, or with ``runs``
    runs of any length (each deleted character is one sentinel in the map)."""
    output = pattern.sub("", text)
    if len(output) != len(text):
        maps.append(_IndexMap(partial(pattern.sub, _nuls if runs else _SENTINEL, text), len(text)))
    return output


def _deleted_by_kind(text: str, pattern: re.Pattern[str], maps: list[_Map]) -> str:
    """Like :func:`_deleted`, for context-free patterns: each kind of character found is deleted
    everywhere with ``str.replace`` (C speed, however many there are); past a few kinds, one
    regular-expression pass does the rest."""
    found = pattern.search(text)
    if found is None:
        return text
    output = text
    for _ in range(4):
        output = output.replace(found.group(), "")
        found = pattern.search(output, found.start())
        if found is None:
            break
    else:
        output = pattern.sub("", output)
    maps.append(_IndexMap(partial(pattern.sub, _SENTINEL, text), len(text)))
    return output


_Map = _IndexMap | _EditMap


@dataclass(frozen=True)
class Normalized:
    """A text as the rules should read it, and the way back to what was written.

    Attributes:
        text: the normalised text the rules match against.
        original: the input, unchanged.
        changed: ``text`` differs from ``original`` (a hint for an "obfuscation" finding; plain
            whitespace changes count too).
    """

    text: str
    original: str
    changed: bool
    _maps: tuple[_Map, ...] = field(default=(), repr=False, compare=False)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The span of ``original`` that normalised ``text[start:end]`` came from.

        ``original[a:b]`` holds every character that produced the normalised span, plus whatever
        invisible characters sat between them; positions outside the text are clamped, and an
        empty span maps to an empty span.
        """
        length = len(self.text)
        start = min(max(start, 0), length)
        end = min(max(end, start), length)
        if start == end:
            position = start
            for mapping in reversed(self._maps):
                position = mapping.point(position)
            return position, position
        for mapping in reversed(self._maps):
            start, end = mapping.span(start, end)
        return start, end


# ------------------------------------------------------------------ step 2: invisible characters

# Character classes that hold characters beyond the BMP are slow in ``re`` (a list, not a
# bitmap), so each check runs the BMP class first and the full one only if the text has any
# character beyond the BMP at all.
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_INVISIBLE_BMP = (
    "\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f"  # controls; \t \n \v \f \r and NEL are whitespace
    "\u00ad\u034f\u061c\u0640\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u0600-\u0605\u06dd\u070f\u0890\u0891\u08e2"
    "\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb"
)
_INVISIBLE_ASTRAL = (
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e0fff"  # tag characters, variation selectors supplement
)
_INVISIBLE = re.compile(f"[{_INVISIBLE_BMP}{_INVISIBLE_ASTRAL}]")
_ANY_INVISIBLE_BMP = re.compile(f"[{_INVISIBLE_BMP}]")
_ANY_INVISIBLE_ASTRAL = re.compile(f"[{_INVISIBLE_ASTRAL}]")

#: Whitespace in all its forms, one for one: a space, or a newline for the line-breaking ones.
_WHITESPACE = {
    **dict.fromkeys(map(ord, "\t\xa0\u1680\u202f\u205f\u3000\u2800"), " "),
    **dict.fromkeys(range(0x2000, 0x200B), " "),
    **dict.fromkeys(map(ord, "\v\f\r\x85\u2028\u2029"), "\n"),
}
_ASCII_WHITESPACE = str.maketrans({"\t": " ", "\v": "\n", "\f": "\n", "\r": "\n"})
_ASCII_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f]")

# ------------------------------------------------------------------ steps 1 and 3: NFKC and marks

#: Blocks that hold only combining diacritics (no script of their own): dropped on any base,
#: except the breve and diaeresis that make й, ў and ї (letters of their own).
_GENERIC_MARK = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_ANY_GENERIC_MARK = re.compile(f"[{_GENERIC_MARK}]")
_MARKED_LETTER = re.compile("[\u0438\u0418\u0443\u0423]\u0306|[\u0456\u0406]\u0308")
_GENERIC_MARKS = _lazy(f"[{_GENERIC_MARK}](?<![\u0438\u0418\u0443\u0423]\u0306)(?<![\u0456\u0406]\u0308)")
#: Letters that decompose to a base and a mark but are letters of their own alphabet.
_KEEP_MARKED = frozenset("йЙїЇўЎ")

#: Base characters whose marks are decoration: ASCII, Latin, Greek, Cyrillic, general punctuation.
_LGC = (
    "\x00-\u02ff\u0370-\u03ff\u0400-\u052f\u1c80-\u1c8f\u1d00-\u1dbf\u1e00-\u1fff\u2000-\u206f"
    "\u2c60-\u2c7f\u2de0-\u2dff\ua640-\ua69f\ua720-\ua7ff\uab30-\uab6f"
)
_LGC_BASE = re.compile(f"[{_LGC}]")
#: A character after such a base that is not a word character, whitespace, nor common
#: punctuation or symbols: the cheap test for a script-specific mark on a Latin letter.
_MAYBE_MARK_AFTER_LGC = _lazy(f"[^\\w\\s\x00-\u02ff\u2000-\u2bff\u3000-\u3029\u3030-\u303f](?<=[{_LGC}].)")


@lru_cache(maxsize=2)
def _marks_after_lgc(astral: bool) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Patterns for combining marks on a Latin, Greek, Cyrillic or ASCII base: a lone mark, and
    a run of them. The mark class is read from ``unicodedata`` on first use (C-level iterators
    over 64 K or 128 K code points, a few milliseconds)."""
    codepoints = range(0x300, 0x20000 if astral else 0x10000)
    categories = map(unicodedata.category, map(chr, codepoints))
    marks = _char_class(compress(codepoints, map(str.startswith, categories, repeat("M"))))
    return (
        re.compile(f"[{marks}](?<=[{_LGC}].)(?![{marks}])"),
        re.compile(f"(?<=[{_LGC}])[{marks}]+"),
    )


#: Latin letters that look like another Latin letter and have no decomposition: the
#: Latin-script part of Unicode's confusables (UTS #39, via confusable-homoglyphs 3.3.1), small
#: capitals (the "fancy text" generators' favourite), letters with a stroke, and typographic
#: quotes. Applied everywhere: these are Latin letters, so no other script's words are at stake.
_LATIN_FOLD_PAIRS = (
    "ıiƄbƍgƖIƦRƽsǀlɑaɡgɣyɩiɪiɯwʋuʏyᴄcᴏoᴑoᴜuᴠvᴡwᴢzᶃgᶌyẝfỿyꜱsꞘFꞙfꞟuꞲJꞳXꞴBꬲeꬵfꬽoꭇrꭈrꭎuꭒuꭚy"
    "ᴀaʙbᴅdᴇeꜰfɢgʜhᴊjᴋkʟlᴍmɴnᴘpʀrᴛtȷj"
    "øoØOđdĐDłlŁLħhĦHŧtŦTƀbɨiƗIɇeƶzǥgɍrʉuɏyꝋo"
    "‘'’'‚'‛'′'ʼ'´'“\"”\"„\"‟\"″\""
)

#: Look-alikes from other scripts (and letter-like symbols) -> the Latin letter they imitate,
#: used only inside mixed or Latin-context words (step 4). From Unicode's confusables data
#: (UTS #39, as shipped by confusable-homoglyphs 3.3.1): every NFKC-stable, unmarked letter or
#: symbol of a non-Latin script whose prototype is one ASCII letter (an upper-case letter whose
#: prototype is "l" maps to "I"). The package itself is not a dependency: importing it costs
#: ~60 ms and a 900 KB JSON file for the ~300 entries used here; tests/plugins/immune checks this
#: table against it when it is installed. The last line adds Greek and Cyrillic letters that
#: attack text uses as Latin look-alikes although UTS #39 does not list them (their shapes
#: differ in some fonts).
_CONFUSABLE_PAIRS = (
    "×xͿJΑAΒBΕEΖZΗHΙIΚKΜMΝNΟOΡPΤTΥYΧXαaγyιiνvοoρpσoυuϜFϳjϺMЅSІIЈJАAВBЕEКKМMНHОOРPСCТTУYХXЬbаaгr"
    "еeоoрpсcуyхxѕsіiјjѡwѴVѵvҮYүyһhҽeӀIӏiԁdԌGԛqԜWԝwՍUՏSՕOաwգqզqհhոnռnսuցgքfօoଠOഠoဝoყyჿoሀUዐO"
    "ᎠDᎡRᎢTᎥiᎩYᎪAᎫJᎬEᎳWᎷMᎻHᎽYᏀGᏂhᏃZᏏbᏒRᏔWᏕSᏙVᏚSᏞLᏟCᏢPᏦKᏧdᏳGᏴBᐯVᑌUᑭPᑯdᑲbᒍJᒪLᕁxᕼHᕽxᖇRᖯbᖴFᗅAᗞD"
    "ᗪDᗰMᗷB᙭X᙮xᚷXᛁlᛕKᛖMᴦr℮e∣l∨v∪U⊤T⋁v⋃U⋿E⍳i⍴p⍺a⏽l╳X⟙T⤫x⤬x⨯xⲅrⲎHⲒIⲔKⲘMⲚNⲞOⲟoⲢPⲣpⲤCⲥcⲦTⲨYⲬXⳐL"
    "ⴸVⴹEⵏlⵔOⵕQⵝXꓐBꓑPꓒdꓓDꓔTꓖGꓗKꓙJꓚCꓜZꓝFꓟMꓠNꓡLꓢSꓣRꓦVꓧHꓪWꓫXꓬYꓮAꓰEꓲlꓳOꓴUꙇiꛟVꭵiꮁrꮃwꮓzꮩvꮪsꮯc"
    "𐊂B𐊆E𐊇F𐊊l𐊐X𐊒O𐊕P𐊖S𐊗T𐊠A𐊡B𐊢C𐊥F𐊫O𐊰M𐊱T𐊲Y𐊴X𐋏H𐌁B𐌂C𐌉l𐌑M𐌕T𐌗X𐐄O𐐕C𐐛L𐐠S𐐬o𐐽c𐑈s𐒴R𐓂O𐓎U𐓪o𐓶u"
    "𐔓N𐔖O𐔘K𐔜C𐔝V𐔥F𐔦L𐔧X𑜆v𑜊w𑜎w𑜏w𑢠V𑢢F𑢣L𑢤Y𑢦E𑢩Z𑢮E𑢲L𑢵O𑢸U𑢼T𑣀v𑣁s𑣂F𑣃i𑣄z𑣈o𑣗o𑣘u𑣜y𖼈V𖼊T𖼖L𖼨l"
    "𖼵R𖼺S𖽀A𖽂U𖽃Y𝈍V𝈓F𝈖R𝈪L🝌C🝨T"
    "εeκkτtηnχxωwμuςcкkмmтtнhвbпnьb"
)


def _pairs(pairs: str) -> dict[int, str]:
    return {ord(pairs[i]): pairs[i + 1] for i in range(0, len(pairs), 2)}


_CONFUSABLE = _pairs(_CONFUSABLE_PAIRS)

#: Where compatibility characters and precomposed letters live (scanned once, lazily).
_FOLD_RANGES = (
    (0x80, 0x3400),
    (0xA640, 0xA6A0),
    (0xA700, 0xA800),
    (0xAB30, 0xAB70),
    (0xF900, 0xFFF0),
    (0x10780, 0x107C0),
    (0x1D400, 0x1D800),
    (0x1E030, 0x1E090),
    (0x1F100, 0x1F250),
    (0x2F800, 0x2FA20),
)


def _fold_char(ch: str, latin: dict[int, str]) -> str:
    """One NFKC-normalised character with its decorative marks dropped and Latin look-alikes folded."""
    if ch not in _KEEP_MARKED:
        decomposed = unicodedata.normalize("NFD", ch)
        if len(decomposed) > 1 and _LGC_BASE.match(decomposed):
            ch = decomposed[0]
    ch = latin.get(ord(ch), ch)
    return _WHITESPACE.get(ord(ch), ch)


def _char_class(codepoints: Iterable[int]) -> str:
    """A regex character class (without brackets) as ranges of consecutive code points."""
    ranges: list[list[int]] = []
    for cp in sorted(codepoints):
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in ranges)


@dataclass(frozen=True)
class _Folds:
    """The character folds of steps 1 and 3, and the patterns that find them."""

    table: dict[int, str]  # one character for one (offsets do not move)
    runs: re.Pattern[str]  # runs of BMP characters ``table`` changes
    expansions: dict[str, str]  # BMP characters whose NFKC form is longer ("ﬁ", "½", "㎏")
    expanding: re.Pattern[str]  # runs of them


@lru_cache(maxsize=1)
def _folds() -> _Folds:
    """Every character whose NFKC form is one character, mapped to that character folded.

    Built on first use (a few milliseconds): the candidates are normalised as one joined string,
    one C call instead of thousands.
    """
    latin = _pairs(_LATIN_FOLD_PAIRS)
    chars = [chr(cp) for low, high in _FOLD_RANGES for cp in range(low, high)]
    nfkc = unicodedata.normalize("NFKC", "\x00".join(chars)).split("\x00")
    nfd = unicodedata.normalize("NFD", "\x00".join(nfkc)).split("\x00")
    table: dict[int, str] = {}
    longer: list[str] = []
    for ch, normal, decomposed in zip(chars, nfkc, nfd, strict=True):
        if len(normal) != 1:
            if ch < "\U00010000":
                longer.append(ch)
            continue
        if normal == ch == decomposed and ord(ch) not in latin and ord(ch) not in _WHITESPACE:
            continue
        folded = _fold_char(normal, latin)
        if folded != ch:
            table[ord(ch)] = folded
    table.update({cp: _fold_char(chr(cp), latin) for cp in latin})
    table.update(_WHITESPACE)
    table.update(_ASCII_WHITESPACE)
    expansions = {ch: _fold_cluster(ch, table) for ch in longer}
    return _Folds(
        table=table,
        runs=re.compile(f"[{_char_class(cp for cp in table if cp < 0x10000)}]+"),
        expansions=expansions,
        expanding=re.compile(f"[{_char_class(map(ord, expansions))}]+"),
    )


#: From this length on, a one-for-one table is applied through numpy (:func:`_one_for_one`).
_ARRAY_TRANSLATE_MIN = 4_096


# id -> (a one-for-one table, every code point mapped through it as a numpy array), built once
_CODE_POINT_ARRAYS: dict[int, tuple[dict[int, str], object]] = {}


def _code_point_array(table: dict[int, str]) -> object:
    """Every code point mapped through ``table``, as a numpy array (4 MB, built on first use)."""
    cached = _CODE_POINT_ARRAYS.get(id(table))
    if cached is None or cached[0] is not table:
        import numpy as np

        mapped = np.arange(0x110000, dtype=np.uint32)
        mapped[np.fromiter(table.keys(), dtype=np.uint32, count=len(table))] = np.fromiter(
            map(ord, table.values()), dtype=np.uint32, count=len(table)
        )
        cached = _CODE_POINT_ARRAYS[id(table)] = (table, mapped)
    return cached[1]


def _one_for_one(text: str, table: dict[int, str]) -> str:
    """``text.translate(table)`` for a table that maps characters to single characters.

    ``str.translate`` looks every character of a non-ASCII text up in a dict (about 0.1 s per
    megabyte); a long text goes through a code-point array instead (UTF-32 in, one numpy
    indexing, UTF-32 out: about 15 ms per megabyte). A text with a lone surrogate, which UTF-32
    cannot carry, is translated the slow way.
    """
    if len(text) < _ARRAY_TRANSLATE_MIN:
        return text.translate(table)
    try:
        data = text.encode("utf-32-le")
    except UnicodeEncodeError:
        return text.translate(table)
    import numpy as np

    mapped = _code_point_array(table)
    return mapped[np.frombuffer(data, dtype=np.uint32)].tobytes().decode("utf-32-le")  # type: ignore[index]


def _fold_one_to_one(text: str, folds: _Folds, astral: bool) -> str:
    """Step 1's one-character NFKC forms and step 3's folds, one for one (offsets do not move).

    Run by run where the text has few of them; once they prove dense, in one pass (a code-point
    array for a long text).
    """
    if astral:
        return _one_for_one(text, folds.table)
    parts: list[str] = []
    position = 0
    limit = 64 + (len(text) >> 8)
    for count, match in enumerate(folds.runs.finditer(text)):
        if count > limit:
            return _one_for_one(text, folds.table)
        parts.append(text[position : match.start()])
        parts.append(match.group().translate(folds.table))
        position = match.end()
    if not parts:
        return text
    parts.append(text[position:])
    return "".join(parts)


def _fold_cluster(cluster: str, table: dict[int, str] | None = None) -> str:
    """NFKC of one character cluster, then the character folds of step 3."""
    if table is None:
        table = _folds().table
    out: list[str] = []
    lgc_base = False
    for ch in unicodedata.normalize("NFKC", cluster):
        if unicodedata.category(ch)[0] == "M":
            if lgc_base or _ANY_GENERIC_MARK.match(ch):
                continue
        else:
            lgc_base = bool(_LGC_BASE.match(ch))
        if ch in _KEEP_MARKED:
            out.append(ch)
            continue
        decomposed = unicodedata.normalize("NFD", ch)
        if len(decomposed) > 1 and lgc_base:
            ch = decomposed[0]
        out.append(ch.translate(table))
    return "".join(out)


def _joins_previous(ch: str) -> bool:
    """True for a combining mark or a Hangul vowel/final jamo: it composes with what precedes."""
    return ch >= "\u0300" and (
        unicodedata.category(ch)[0] == "M" or "\u1160" <= ch <= "\u11ff" or "\ud7b0" <= ch <= "\ud7ff"
    )


_LEAF = 8


def _nfkc_edits(text: str, start: int, end: int, edits: list[tuple[int, int, str]]) -> None:
    """Edits that bring ``text[start:end]`` to NFKC, found by halving (C-level checks on halves).

    The halves are split where a cluster starts, so a half that is normalised on its own is
    normalised in place; only leaves of a few characters are walked cluster by cluster.
    """
    if unicodedata.is_normalized("NFKC", text[start:end]):
        return
    if end - start > _LEAF:
        middle = (start + end) // 2
        while middle > start and _joins_previous(text[middle]):
            middle -= 1
        if middle > start:
            _nfkc_edits(text, start, middle, edits)
            _nfkc_edits(text, middle, end, edits)
            return
    position = start
    while position < end:
        stop = position + 1
        while stop < end and _joins_previous(text[stop]):
            stop += 1
        cluster = text[position:stop]
        if not unicodedata.is_normalized("NFKC", cluster):
            edits.append((position, stop, _fold_cluster(cluster)))
        position = stop


def _character_steps(text: str, maps: list[_Map]) -> str:
    """Steps 1-3 (NFKC, invisible characters, marks) and the whitespace of step 2."""
    astral = not text.isascii() and _ASTRAL.search(text) is not None
    if _ANY_INVISIBLE_BMP.search(text) or (astral and _ANY_INVISIBLE_ASTRAL.search(text)):
        text = _deleted_by_kind(text, _INVISIBLE, maps)
    if text.isascii():
        return text.translate(_ASCII_WHITESPACE)
    folds = _folds()
    text = _fold_one_to_one(text, folds, astral)
    if folds.expanding.search(text):
        expansions = folds.expansions
        edits = [
            (m.start(), m.end(), "".join(map(expansions.__getitem__, m.group())))
            for m in folds.expanding.finditer(text)
        ]
        text = _edited(text, _Edits.of(edits), maps)
    if _ANY_GENERIC_MARK.search(text):
        if _MARKED_LETTER.search(text):  # и + breve: the breve stays, a plain replace cannot see that
            text = _deleted(text, _GENERIC_MARKS(), maps)
        else:
            text = _deleted_by_kind(text, _ANY_GENERIC_MARK, maps)
    if not unicodedata.is_normalized("NFKC", text):
        edits = []
        _nfkc_edits(text, 0, len(text), edits)
        text = _edited(text, _Edits.of(edits), maps)
    if _MAYBE_MARK_AFTER_LGC().search(text):
        lone, runs = _marks_after_lgc(astral)
        text = _deleted(text, lone, maps)
        text = _deleted(text, runs, maps, runs=True)
    return text


def _nuls(match: re.Match[str]) -> str:
    return _SENTINEL * (match.end() - match.start())


# ------------------------------------------------------------------ step 4: look-alikes in context


_LATIN_LETTERS = (
    "A-Za-z\u00aa\u00b5\u00ba\u00c0-\u024f\u0250-\u02af\u1d00-\u1dbf\u1e00-\u1eff"
    "\u2c60-\u2c7f\ua720-\ua7ff\uab30-\uab6f\uff21-\uff3a\uff41-\uff5a"
)


@dataclass(frozen=True)
class _LookAlikes:
    """Step 4's patterns for one character set (the BMP look-alikes, or all of them)."""

    any: re.Pattern[str]
    foreign: re.Pattern[str]  # a letter of another script that imitates no Latin letter
    mixed_word: re.Pattern[str]  # run on the text with "_" made a space (see :func:`_look_alikes`)
    all_look_alike_word: re.Pattern[str]


@lru_cache(maxsize=2)
def _look_alikes(astral: bool) -> _LookAlikes:
    look_alike = _char_class(cp for cp in _CONFUSABLE if astral or cp < 0x10000)
    word_char = f"[^\\W_]|[{look_alike}@$]"
    return _LookAlikes(
        any=re.compile(f"[{look_alike}]"),
        foreign=re.compile(f"[^\\W\\d_{_LATIN_LETTERS}{look_alike}]"),
        # A whole word (tried from its first character only, so the scan stays linear) in which a
        # look-alike touches an ASCII letter, a digit, @ or $. Its word characters are one class,
        # ``[\w@$…]``, on a text whose "_" became a space (the same words as ``word_char``, which
        # excludes "_"): one class per character instead of an alternation of two, 40% faster.
        mixed_word=re.compile(
            f"(?<![\\w@${look_alike}])[\\w@${look_alike}]*?"
            f"(?:[A-Za-z0-9@$][{look_alike}]|[{look_alike}][A-Za-z0-9@$])[\\w@${look_alike}]*"
        ),
        all_look_alike_word=re.compile(f"(?<!{word_char})[{look_alike}]{{2,}}(?!{word_char})"),
    )


_LETTERS = re.compile(r"[^\W\d_]+")
_LETTERS_SPLIT = re.compile(r"([^\W\d_]+)")
_ASCII_LETTER = re.compile("[A-Za-z]")
_NON_LATIN_LETTER = _lazy(f"[^\\W\\d_{_LATIN_LETTERS}]")
_CONTEXT = 64


def _is_latin_word(word: str) -> bool | None:
    """True for a Latin word (after folding look-alikes), False for another script's, None if unsure."""
    folded = word.translate(_CONFUSABLE)
    if _NON_LATIN_LETTER().search(folded):
        return False
    return True if _ASCII_LETTER.search(folded) else None


def _confusable_steps(text: str) -> str:
    """Step 4: look-alike letters in mixed words and in look-alike words among Latin words."""
    if text.isascii():
        return text
    look_alikes = _look_alikes(_ASTRAL.search(text) is not None)
    if not look_alikes.any.search(text) or not _ASCII_LETTER.search(text):
        return text
    if not look_alikes.foreign.search(text):
        # No word of another script to protect: every look-alike imitates a Latin letter here.
        return _one_for_one(text, _CONFUSABLE)
    # the spans of one finditer come in order and do not overlap (spans got in C, not per match)
    kept: list[tuple[int, int]] = list(map(_SPAN, look_alikes.mixed_word.finditer(text.replace("_", " "))))
    extra: list[tuple[int, int]] = []
    for match in look_alikes.all_look_alike_word.finditer(text):
        start, end = match.span()
        before = _LETTERS.findall(text, max(0, start - _CONTEXT), start)
        after = _LETTERS.search(text, end, end + _CONTEXT)
        neighbours = [_is_latin_word(w) for w in (before[-1:] + ([after.group()] if after else []))]
        if True in neighbours and False not in neighbours:
            extra.append((start, end))
    if extra:  # two lists of spans: in order, and a span that overlaps an earlier one is left out
        edits = sorted(kept + extra)
        kept = []
        position = 0
        for start, end in edits:
            if start < position:
                continue
            kept.append((start, end))
            position = end
    if not kept:
        return text
    if len(kept) > _MANY_EDITS and len(text) >= _ARRAY_TRANSLATE_MIN:
        translated = _one_for_one_within(text, _CONFUSABLE, kept)
        if translated is not None:
            return translated
    parts = []
    position = 0
    for start, end in kept:
        parts.append(text[position:start])
        parts.append(text[start:end].translate(_CONFUSABLE))
        position = end
    parts.append(text[position:])
    return "".join(parts)  # one for one: the offsets do not move


#: Past this many look-alike words, step 4 folds them in one numpy pass, not one slice at a time.
_MANY_EDITS = 256
_SPAN = methodcaller("span")


def _one_for_one_within(text: str, table: dict[int, str], spans: list[tuple[int, int]]) -> str | None:
    """``text`` with the characters inside ``spans`` (sorted, not overlapping) mapped through
    ``table`` one for one, in one code-point array pass (a text of a hundred thousand look-alike
    words took 0.1-0.2 s of ``str.translate`` calls on slices); ``None`` for a text with a lone
    surrogate, which UTF-32 cannot carry."""
    try:
        data = text.encode("utf-32-le")
    except UnicodeEncodeError:
        return None
    import numpy as np

    points = np.frombuffer(data, dtype="<u4")
    bounds = np.fromiter(chain.from_iterable(spans), dtype=np.int64, count=2 * len(spans)).reshape(-1, 2)
    length = len(text)
    # +1 where a span starts, -1 where it ends: the running sum is 1 inside a span, 0 outside
    inside = np.cumsum(
        np.bincount(bounds[:, 0], minlength=length + 1) - np.bincount(bounds[:, 1], minlength=length + 1)
    )[:length].astype(bool)
    mapped = _code_point_array(table)
    return np.where(inside, mapped[points], points).astype("<u4").tobytes().decode("utf-32-le")  # type: ignore[index]


# ------------------------------------------------------------------ step 5: whitespace

_WHITESPACE_RUN = re.compile("[ \n][ \n]")
# A run of spaces and newlines that holds a newline, matched from its first character (the
# look-behind keeps a long run of spaces from being rescanned at every position).
_NEWLINE_RUN = re.compile("(?<![ \n])[ \n]*\n[ \n]*")
_SPACE_RUN = re.compile("  +")
_LONG_RUN = re.compile("[ \n]{2,}")


def _one_of_run(match: re.Match[str]) -> str:
    """The run with NULs for all but the character kept: its first newline, else its first space."""
    run = match.group()
    keep = max(run.find("\n"), 0)
    return _SENTINEL * keep + run[keep] + _SENTINEL * (len(run) - keep - 1)


def _collapse_whitespace(text: str, maps: list[_Map]) -> str:
    """Step 5: a run of spaces becomes one space; a run holding a newline becomes one newline."""
    if not _WHITESPACE_RUN.search(text):
        return text
    output = _SPACE_RUN.sub(" ", _NEWLINE_RUN.sub("\n", text))
    maps.append(_IndexMap(partial(_LONG_RUN.sub, _one_of_run, text), len(text)))
    return output


# ------------------------------------------------------------------ steps 6-7: vocabulary

#: Key words of the injection rules. Words of six letters or more are matched with misspellings
#: (step 6); shorter ones only through leetspeak (step 7): "4ll", "th3", "y0ur".
DEFAULT_VOCABULARY: frozenset[str] = frozenset(
    """
    ignore disregard forget override bypass overlook discard reveal disclose repeat output
    exfiltrate execute pretend jailbreak previous previously preceding earlier foregoing original
    initial everything instructions instruction prompt prompts directives directive guidelines
    guideline restrictions restriction constraints policies system developer administrator
    assistant password passwords passphrase credentials credential secret secrets confidential
    unrestricted uncensored unfiltered roleplay conversation
    all any every above prior rules rule the your you these those print leak admin token tokens
    key keys api mode obey dump tell show send email
    """.split()
)

#: Real words within the misspelling distance of a default vocabulary word: never "corrected".
#: Found by running this module's own correction over the 100,000 most frequent words of each of
#: English, German, French, Spanish, Italian, Portuguese, Dutch, Swedish, Danish, Norwegian,
#: Polish, Czech, Turkish, Indonesian and Romanian (wordfreq 3.1.1, folded as the text is), minus
#: the misspellings those lists contain ("everthing", "orginal", "pasword"). Inflections
#: (vocabulary word + s, d, r, es, ed, er, ly; a plural's singular) are added for any vocabulary.
_REAL_WORDS: frozenset[str] = frozenset(
    """
    administrado administrador administradora administrados administramos administrar
    administraron administrat administrata administrate administrated administrateur
    administratia administratie administratif administratii administration administrativ
    administratora administratorem administratoren administratori administratorii
    administratorow administratoru administratorul administratorzy amministrato amministratore
    amministratori asistan asistani asistat asistent assignant assista assistaient assistais
    assistait assistam assistanat assistance assistans assistanse assistante assisten assistens
    assistent assistente assistenti assistenz assistert assisting assistono assistons bokens
    breeding buypass carlier censored concertation condensation confidencia confidencial
    confidencias confidenti confidentiale confidentiel confidentiels confidenziale confidenziali
    conservation constants constrain constrained constrains constrans construction constructions
    construits contraint contrainte contraintes contraints conversacion conversaron conversatia
    conversatie conversatiei conversaties conversatii conversational conversazione conversazioni
    conversion corective credencia credenciais credencial credenciales credenti credenziale
    credenziali decret decrets defective destruction destructions detective detectives develer
    develop developed developera developeri developerow developeru developery developpa
    developpe developpee developper developpera developpes developpeur developpez develops
    deweloper dewelopera digestive digestives directe directere directes directi directia
    directie directiei directies directif directii directiile directing direction directions
    directiva directivas directivei directivele directivo directivos directoire directores
    directrice directrices directrizes directv direktiv direktive direktiven direktiver
    direktivet diretiva diretivas diretivo direttiva direttive direttivi direttivo discar
    discord disgregare ejecute execut executa executee executem executez executie executo
    exfiltre farget filtered filtrate folget foraging fordet foreboding foredling foregone
    forening foret forewing forge forged forgee forgent forger forges forging forgoing forgot
    forlegning formet foroget forret forsegling fortet forvet giscard guidene guidolin gundemine
    ignare ignora ignoree ignorei ignorem ignoren ignorez ignori ignoro ignote infiltrate
    inicial inisial initia initiaal initiala initiale initialt initiat insistant instruccion
    instrucciones instructie instructies instructif instructifs instructing instructional
    instructiuni instructiva instructive instructives instructivo instructivos instructor
    instructors instruktion jailbreaken konversation konversations meeloper obstruction
    obstructions origina originala originale originali originalt originalu originaly originam
    originan originar originel orijinal orisinal oryginal overcook overloon overloop overripe
    overrode overtook paraphrase passord passports passwort pervious polices policias policier
    policiers polities pompt pratend prebend precedant preceden precedens precedent precedia
    precedida precedido precedio precedono precious precluding preening presiding pretenda
    pretende pretendi pretending pretendo pretendu pretent pretind previos proceeding promet
    promets promit prompte propt prudential receding reheat repeal repent repet repeta repetat
    replat resistant restriccion restricciones restricted restrictia restrictie restrictief
    restricties restrictif restrictifs restrictii restricting restrictionat restrictiva
    restrictivas restrictive restrictives restrictivo restrictivos restrictor restriktion
    retraction retractions reval reveil revel revela revell revetal rompt seceding secreta
    secretas secrete secreti secreto secretos seiret sejret sekret seret seyret sideline
    sidelines signore sistem sorget systeem systema systeme systemu systemy syster tekens torens
    torget totens unaltered unfettered
    prepend prepends prepended prepending systemd
    """.split()
)

_FUZZY_MIN = 6  # vocabulary words shorter than this are matched exactly (leetspeak only)
_FAR_MIN = 9  # vocabulary words this long tolerate two edits
_INFLECTIONS = ("s", "d", "r", "es", "ed", "er", "ly", "'s")


def _edits1(word: str, alphabet: str) -> set[str]:
    """Every string one Damerau edit away from ``word`` (deletion, transposition, substitution, insertion)."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    found = {a + b[1:] for a, b in splits if b}
    found.update(a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1)
    found.update(a + c + b[1:] for a, b in splits if b for c in alphabet)
    found.update(a + c + b for a, b in splits for c in alphabet)
    found.discard(word)
    return found


_CACHE_SIZE = 1 << 16
#: From this many words of a long key word's length on, their distances are computed in one call
#: (:meth:`_Lexicon._far_many`); fewer are looked at one by one (no numpy array for a lesson).
_FAR_BATCH = 512


@lru_cache(maxsize=1)
def _extract_one() -> Callable[..., tuple[str, int, int] | None]:
    """``rapidfuzz.process.extractOne`` (imported on first use: only a misspelling check needs it)."""
    from rapidfuzz.process import extractOne

    return extractOne


@lru_cache(maxsize=1)
def _osa_distance() -> Callable[..., int]:
    """``rapidfuzz``'s optimal-string-alignment distance (Damerau: a swap of neighbours is one edit)."""
    from rapidfuzz.distance import OSA

    return OSA.distance


class _SeenCache:
    """The keys looked at so far and the results found among them (``compute(keys)`` returns a
    result for some of the keys): a text's keys are then mostly settled by two set operations in C.
    Holds at most :data:`_CACHE_SIZE` keys; past that it starts again."""

    __slots__ = ("compute", "found", "seen")

    def __init__(self, compute: Callable[[set[str]], dict[str, str]]) -> None:
        self.compute = compute
        self.seen: set[str] = set()
        self.found: dict[str, str] = {}

    def lookup(self, keys: set[str]) -> dict[str, str]:
        """Key -> result, for those of ``keys`` that have one."""
        if len(keys) > _CACHE_SIZE:  # more than the cache holds: looked at once, not remembered
            return self.compute(keys)
        new = keys - self.seen
        if new:
            if len(self.seen) + len(new) > _CACHE_SIZE:
                self.seen.clear()
                self.found.clear()
                new = set(keys)  # the keys seen before are looked at again, not forgotten
            self.seen |= new
            self.found.update(self.compute(new))
        found = self.found
        return {k: found[k] for k in keys & found.keys()}


class _Lexicon:
    """The vocabulary and its misspelling indexes.

    ``near`` holds every string one edit from a vocabulary word of six letters or more (SymSpell's
    neighbourhood idea), so the distance-1 check for all the words of a text is one set
    intersection. Words of nine letters or more also tolerate two edits: a word whose length is
    within two of such a word's is compared with the few long vocabulary words of a near length
    in one call into C++ (``rapidfuzz``'s optimal-string-alignment distance, cut off at 2),
    about a microsecond per word.

    The words of a text are settled all at once (:meth:`corrections`, :meth:`spellings`): set
    operations and ``map`` over all of them run in C, and Python looks at a word only when it is
    a misspelling or has the length of a long key word's misspelling. The cost per word depends
    on its length, never on the size of the vocabulary, and a text of many distinct words (which
    no cache helps) costs no Python call per word that cannot be a misspelling. Answers are
    cached, since the words of real text repeat.
    """

    def __init__(self, vocabulary: frozenset[str], known: frozenset[str]) -> None:
        self.exact = frozenset(w.lower() for w in vocabulary if w)
        inflected = {w + s for w in self.exact for s in _INFLECTIONS}
        inflected |= {w[:-1] for w in self.exact if w.endswith("s")}
        inflected |= {w[:-1] + "ed" for w in self.exact if w.endswith("e")}
        self.known = frozenset(w.lower() for w in known) | _REAL_WORDS | inflected
        skip = self.known | self.exact
        #: the words that are never corrected: vocabulary and known words
        self.words = skip
        #: the same with "l" read as "i" and "b" as "g": a leetspeak "1" or "6" can only spell a
        #: word whose form here equals the token's (the test before trying the readings one by one)
        self.ambiguous_forms = frozenset(w.translate(_AMBIGUOUS_FORM) for w in skip)
        letters = "".join(sorted({c for w in self.exact for c in w if c.isalpha() and not c.isascii()}))
        self.near: dict[str, str] = {}
        for word in sorted(self.exact):
            if len(word) < _FUZZY_MIN:
                continue
            alphabet = "abcdefghijklmnopqrstuvwxyz" + ("" if word.isascii() else letters)
            for variant in _edits1(word, alphabet):
                if variant not in skip:
                    self.near.setdefault(variant, word)
        long_words = [w for w in self.exact if len(w) >= _FAR_MIN]
        lengths = list(map(len, long_words))
        self.far_range = (min(lengths) - 2, max(lengths) + 2) if lengths else (1, 0)
        #: per word length: the long vocabulary words within two letters of it, closest length
        #: first, then alphabetically (the order that breaks a tie between equally close words)
        self.far_ranked: dict[int, list[str]] = {}
        for length in range(self.far_range[0], self.far_range[1] + 1):
            ranked = sorted((abs(len(w) - length), w) for w in long_words if abs(len(w) - length) <= 2)
            self.far_ranked[length] = [w for _, w in ranked]
        self.far_ranked_all = sorted(long_words)
        #: every vocabulary word is ASCII (the default): a word far from ASCII is near none of them
        self.ascii_only = all(map(str.isascii, self.exact))
        # Every word looked at so far, and the misspelt ones among them with their correction;
        # the same for leetspeak tokens and the words they spell.
        self._misspelt = _SeenCache(self.correct_all)
        self._spelt = _SeenCache(self._spell)

    def correct(self, word: str) -> str | None:
        """The vocabulary word that ``word`` (lower case) is a misspelling of, if any."""
        return self.correct_all((word,)).get(word)

    def correct_all(self, words: Iterable[str]) -> dict[str, str]:
        """Misspelt word -> the vocabulary word it misspells, for ``words`` (lower case).

        Vocabulary and known words, and words one edit away, are settled by set operations. Of
        the rest, only a word whose length is in ``far_range`` can be two edits from a long
        vocabulary word; each such word gets one distance computation in C++ (:meth:`_far`).
        """
        rest = set(words)
        rest -= self.words
        near = self.near
        found = {word: near[word] for word in rest & near.keys()}
        rest -= found.keys()
        low, high = self.far_range
        if not rest or low > high:
            return found
        if self.ascii_only and not all(map(str.isascii, rest)):
            # a word with three letters or more outside ASCII is three edits from every ASCII
            # key word (counted in C: the length of its ASCII part)
            candidates = list(rest)
            ascii_parts = map(len, map(str.encode, candidates, repeat("ascii"), repeat("ignore")))
            rest = set(compress(candidates, map(ge, ascii_parts, map(sub, map(len, candidates), repeat(2)))))
        by_length = sorted(rest, key=len)
        lengths = list(map(len, by_length))
        in_range = by_length[bisect_left(lengths, low) : bisect_right(lengths, high)]
        if len(in_range) >= _FAR_BATCH:
            found.update(self._far_many(in_range, lengths[bisect_left(lengths, low) : bisect_right(lengths, high)]))
        else:
            far = zip(in_range, map(self._far, in_range), strict=True)
            found.update((word, hit) for word, hit in far if hit is not None)
        return found

    def _far_many(self, words: list[str], lengths: list[int] | None = None) -> dict[str, str]:
        """:meth:`_far` of many words at once (lengths in ``far_range``): per word length, every
        distance to the long vocabulary words of a near length in one C++ call
        (``rapidfuzz.process.cdist``), the closest chosen per word with numpy (a tie to the earlier
        in rank order); no Python work per word but for the ones that are misspellings.
        ``lengths``: the words' lengths when the words come sorted by length (not sorted again)."""
        import numpy as np
        from rapidfuzz.process import cdist

        if lengths is None:  # not sorted by length yet
            words = sorted(words, key=len)
            lengths = list(map(len, words))
        ordered = words
        found: dict[str, str] = {}
        for length, ranked in self.far_ranked.items():
            group = ordered[bisect_left(lengths, length) : bisect_right(lengths, length)]
            if not group or not ranked:
                continue
            distances = cdist(group, ranked, scorer=_osa_distance(), score_cutoff=2, dtype=np.int32, workers=1)
            best = np.argmin(distances * len(ranked) + np.arange(len(ranked)), axis=1)
            hits = distances[np.arange(len(group)), best] <= 2
            found.update(
                zip(
                    compress(group, hits.tolist()),
                    map(ranked.__getitem__, best[hits].tolist()),
                    strict=True,
                )
            )
        return found

    def _far(self, word: str) -> str | None:
        """The long vocabulary word within two edits of ``word`` (not a vocabulary or known word,
        length in ``far_range``): the closest one, a tie going to the closer length, then to the
        alphabetically first."""
        match = _extract_one()(word, self.far_ranked[len(word)], scorer=_osa_distance(), score_cutoff=2)
        return None if match is None else match[0]

    def corrections(self, words: set[str]) -> dict[str, str]:
        """Misspelt word -> vocabulary word, for the distinct lower-case words of a text."""
        return self._misspelt.lookup(words)

    def spellings(self, tokens: set[str]) -> dict[str, str]:
        """Leetspeak token -> the word it spells, for the tokens of a text that spell one.

        ``tokens`` are the cores of :data:`_LEET_TOKEN` matches: each holds an ASCII letter (a
        leet character touches one) and no line break.
        """
        return self._spelt.lookup(tokens)

    def _spell(self, tokens: set[str]) -> dict[str, str]:
        """The words ``tokens`` spell (see :func:`_vocabulary_steps`, step 7), looked up together.

        A token spells the word its leet characters make when read as their first letter, or,
        for a "1" (i or l) or "6" (g or b), the first of its first sixteen readings that is a
        vocabulary or known word, or else the vocabulary word that reading misspells. A token
        that is a word once the leet characters at its edges are dropped ("@override",
        "$system") must spell a word exactly: that is code, not a disguised word.
        """
        # The tokens hold no line break: they are lower-cased and read as one text (one C call
        # each, not one per token), then split again.
        ordered = list(tokens)
        if not ordered:
            return {}
        lowers = "\n".join(ordered).lower().split("\n")
        readings = "\n".join(lowers).translate(_LEET_FIRST).split("\n")
        words = self.words
        spelt: dict[str, str] = {}
        if not words.isdisjoint(readings):  # most tokens of a long text spell nothing directly
            direct = list(map(words.__contains__, readings))
            spelt = dict(compress(zip(ordered, readings, strict=True), direct))
            if len(spelt) == len(ordered):
                return spelt
            indirect = list(map(not_, direct))
            ordered, lowers, readings = (list(compress(column, indirect)) for column in (ordered, lowers, readings))
        # "1" reads i or l, "6" g or b: the readings are tried one by one only for a token whose
        # form with both read one way is the form of a word
        forms = "\n".join(readings).translate(_AMBIGUOUS_FORM).split("\n")
        for token, lower in compress(
            zip(ordered, lowers, strict=True), list(map(self.ambiguous_forms.__contains__, forms))
        ):
            if not _LEET_AMBIGUOUS.search(lower):
                continue
            choices = [_LEET.get(c, c) for c in lower]
            for count, letters in enumerate(product(*choices)):
                if count >= _MAX_LEET_VARIANTS:
                    break
                candidate = "".join(letters)
                if candidate in words:
                    spelt[token] = candidate
                    break
        # the others may misspell a word, unless they are a word once the leet characters at
        # their edges are dropped (looked at only for the few readings that misspell a word)
        corrected = self.correct_all(readings)
        if corrected:
            hits = list(map(corrected.__contains__, readings))
            for token, lower, reading in compress(zip(ordered, lowers, readings, strict=True), hits):
                if token not in spelt and lower.strip("0123456789@$!|") not in words:
                    spelt[token] = corrected[reading]
        return spelt


@lru_cache(maxsize=8)
def _lexicon(vocabulary: frozenset[str], known: frozenset[str]) -> _Lexicon:
    # rapidfuzz and numpy are imported with the first lexicon (the first scan, which may take its
    # time preparing), not in the middle of the first long text's scan
    _extract_one()
    _osa_distance()
    import numpy  # noqa: F401
    from rapidfuzz.process import cdist  # noqa: F401

    return _Lexicon(vocabulary, known)


_LEET = {
    "0": "o",
    "1": "il",
    "2": "z",
    "3": "e",
    "4": "a",
    "5": "s",
    "6": "gb",
    "7": "t",
    "8": "b",
    "9": "g",
    "@": "a",
    "$": "s",
    "!": "i",
    "|": "l",
}
#: A leet character next to an ASCII letter: where a leetspeak word may be (the character class
#: comes first so the scan skips ahead in C).
_LEET_NEXT_TO_LETTER = re.compile(r"[0-9@$!|](?<=[A-Za-z].)|[0-9@$!|](?=[A-Za-z])")
#: A whole token of word characters and @ $ ! | in which a leet character touches a letter. It is
#: tried from the first character of a token only (the look-behind), so the scan is linear.
_LEET_TOKEN = re.compile(r"(?<![\w@$!|])[\w@$!|]*?(?:[0-9@$!|](?<=[A-Za-z].)|[0-9@$!|](?=[A-Za-z]))[\w@$!|]*")
#: The same as the one group of a pattern: ``split`` gives the tokens and the text between them.
_LEET_SPLIT = re.compile(f"({_LEET_TOKEN.pattern})")
_MAX_TOKEN = 40
_MAX_LEET_VARIANTS = 16
_LEET_CHARACTER = re.compile("[0-9@$!|]")
_LEET_FIRST = str.maketrans({c: letters[0] for c, letters in _LEET.items()})
_LEET_AMBIGUOUS = re.compile("[16]")
#: "l" read as "i" and "b" as "g" (the two readings of a leetspeak "1" and "6" made one).
_AMBIGUOUS_FORM = str.maketrans("lb", "ig")
#: ASCII characters other than lower-case letters, as spaces (splitting a lower-cased ASCII text
#: into words this way is twice as fast as a regular expression).
_NON_LETTER_TO_SPACE = str.maketrans({c: " " for c in range(128) if not 97 <= c <= 122})


def _leet_edits(text: str, lexicon: _Lexicon) -> _Edits:
    """Step 7: the leetspeak tokens of ``text`` that spell a word, replaced by that word.

    A token is a run of letters, digits and @ $ ! | in which a leet character touches a letter;
    "!" and "|" at its edges are punctuation ("ignore!"), not letters, and a token with "_" or
    longer than forty characters is an identifier or a hash. The text is split into tokens and
    the text between them in C, each distinct token is looked at once, and the positions of
    the tokens that spell a word come from the lengths of the pieces (C-level iterators): no
    Python work per token of the text, however many there are.
    """
    if not _LEET_NEXT_TO_LETTER.search(text):
        return _Edits([], [], [])
    pieces = _LEET_SPLIT.split(text)  # text, token, text, token, …, text
    tokens = pieces[1::2]
    distinct = list(set(tokens))
    cores = list(map(str.strip, distinct, repeat("!|")))  # "!" and "|" at the edges dropped
    usable = map(and_, map(le, map(len, cores), repeat(_MAX_TOKEN)), map(not_, map(contains, cores, repeat("_"))))
    spelt = lexicon.spellings(set(compress(cores, list(usable))) - {""})
    if not spelt:
        return _Edits([], [], [])
    spelling = list(map(spelt.get, cores))
    rewritten = list(map(and_, map(is_not, spelling, repeat(None)), map(ne, spelling, cores)))
    if not any(rewritten):
        return _Edits([], [], [])
    distinct, cores = (list(compress(column, rewritten)) for column in (distinct, cores))
    words: list[str] = list(compress(spelling, rewritten))  # type: ignore[arg-type]  # no None left
    leads = list(map(str.index, distinct, cores))
    trails = map(sub, map(sub, map(len, distinct), leads), map(len, cores))
    rewrites = dict(zip(distinct, zip(leads, trails, words, strict=True), strict=True))  # token -> (lead, trail, word)
    offsets = list(accumulate(map(len, pieces), initial=0))  # token i is offsets[2i+1 : 2i+2]
    found = list(map(rewrites.get, tokens))
    chosen = list(filter(None, found))
    return _Edits(
        list(map(add, compress(offsets[1::2], found), map(itemgetter(0), chosen))),
        list(map(sub, compress(offsets[2::2], found), map(itemgetter(1), chosen))),
        list(map(itemgetter(2), chosen)),
    )


def _is_compound(written: str, word: str) -> bool:
    """True for a camelCase identifier made of a key word and more ("conversationId", "userPassword")."""
    lower = written.lower()
    if lower.startswith(word) and len(written) > len(word):
        return written[len(word)].isupper() and written[len(word) - 1].islower()
    if lower.endswith(word) and len(written) > len(word):
        return written[-len(word)].isupper() and written[-len(word) - 1].islower()
    return False


#: The characters whose lower-case form is longer than one character (Unicode 15: only "İ",
#: which lower-cases to "i" and a combining dot), as the one group of a pattern.
_LONGER_LOWER = re.compile("(\u0130)")


def _lower_in_place(text: str) -> str:
    """``text`` in lower case, one character for one: a character whose lower-case form is
    longer stays as it is. The text between those characters is lower-cased in C (a loop over
    the characters of a megabyte of text would take a quarter of a second)."""
    pieces = _LONGER_LOWER.split(text)  # text, "İ", text, …
    pieces[::2] = [piece.lower() for piece in pieces[::2]]
    lower = "".join(pieces)
    if len(lower) == len(text):
        return lower
    # another character lower-cases to more than one (a newer Unicode): character by character
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _vocabulary_steps(text: str, lexicon: _Lexicon) -> _Edits:
    """Steps 6-7: edits that spell misspelt and leetspeak key words as the vocabulary does.

    The distinct words of the text are settled together (:meth:`_Lexicon.corrections`); the
    positions of the words come from splitting the text in C, and Python looks only at the
    words that are misspelt.
    """
    leet = _leet_edits(text, lexicon)
    lower = text.lower()
    if lower.isascii():
        words = set(lower.translate(_NON_LETTER_TO_SPACE).split())
    else:
        if len(lower) != len(text):  # a lower-case form of another length: keep offsets exact
            lower = _lower_in_place(text)
        words = set(_LETTERS.findall(lower))
    found = lexicon.corrections(words)
    if not found:
        return leet
    if lower.isascii():
        # every non-letter as a space, split at each: the words (and empty pieces) one character
        # apart, so piece i starts at the sum of the lengths before it plus i (no pattern to run)
        pieces = lower.translate(_NON_LETTER_TO_SPACE).split(" ")
        starts_all = list(accumulate(map(len, pieces), add, initial=0))
        misspelt = list(map(found.__contains__, pieces))
        starts = list(map(add, compress(starts_all, misspelt), compress(range(len(pieces)), misspelt)))
        words_found = list(compress(pieces, misspelt))
    else:
        pieces = _LETTERS_SPLIT.split(lower)  # text, word, text, word, …, text
        offsets = list(accumulate(map(len, pieces), initial=0))  # word i is offsets[2i+1 : 2i+2]
        misspelt = list(map(found.__contains__, pieces[1::2]))
        starts = list(compress(offsets[1::2], misspelt))
        words_found = list(compress(pieces[1::2], misspelt))
    ends = list(map(add, starts, map(len, words_found)))
    replacements = list(map(found.__getitem__, words_found))
    # a written form in lower case is never a camelCase compound; the others are looked at
    keep = list(map(str.islower, map(text.__getitem__, map(slice, starts, ends))))
    for i in list(compress(range(len(keep)), map(not_, keep))):
        keep[i] = not _is_compound(text[starts[i] : ends[i]], replacements[i])
    leet_starts, leet_ends = leet.starts, leet.ends
    if leet_starts:
        # a word inside a leetspeak token that step 7 rewrote as a whole stays as step 7 wrote
        # it: the first rewritten token that ends after the word starts must start after it ends
        first = map(bisect_right, repeat(leet_ends), starts)
        after = map([*leet_starts, len(text)].__getitem__, first)
        keep = list(map(and_, keep, map(ge, after, ends)))
    if not all(keep):
        starts, ends = list(compress(starts, keep)), list(compress(ends, keep))
        replacements = list(compress(replacements, keep))
    if not leet_starts:
        return _Edits(starts, ends, replacements)
    # both kinds: merge the two sorted lists by start (a sort of the positions, in C)
    all_starts = leet_starts + starts
    order = sorted(range(len(all_starts)), key=all_starts.__getitem__)
    return _Edits(
        list(map(all_starts.__getitem__, order)),
        list(map((leet_ends + ends).__getitem__, order)),
        list(map((leet.replacements + replacements).__getitem__, order)),
    )


# ------------------------------------------------------------------ entry points


def _needs_character_steps(text: str) -> bool:
    """False for printable ASCII with single spaces and single newlines: steps 1-5 change nothing."""
    return (
        not text.isascii()
        or "  " in text
        or "\n\n" in text
        or " \n" in text
        or "\n " in text
        or _ASCII_CONTROL.search(text) is not None
    )


def normalize(
    text: str,
    *,
    vocabulary: Iterable[str] = DEFAULT_VOCABULARY,
    known_words: Iterable[str] = (),
) -> Normalized:
    """Normalise ``text`` for matching (steps 1-7 of this module's docstring).

    Args:
        text: what was written.
        vocabulary: the key words of the rules; misspelt or leetspeak forms of them are spelt as
            the vocabulary spells them (lower case). Pass a frozenset built once: the index behind
            it is cached per vocabulary. ``()`` turns steps 6-7 off.
        known_words: real words that must never be "corrected" although they are close to a key
            word (the literal words of the rules in every language they cover are a good set).

    Returns:
        the :class:`Normalized` text with the way back to ``text``.
    """
    maps: list[_Map] = []
    normal = text
    if _needs_character_steps(text):
        normal = _character_steps(normal, maps)
        normal = _confusable_steps(normal)
        normal = _collapse_whitespace(normal, maps)
    vocabulary = vocabulary if isinstance(vocabulary, frozenset) else frozenset(vocabulary)
    if vocabulary:
        known = known_words if isinstance(known_words, frozenset) else frozenset(known_words)
        normal = _edited(normal, _vocabulary_steps(normal, _lexicon(vocabulary, known)), maps)
    return Normalized(normal, text, normal != text, tuple(maps))


def fold(text: str) -> str:
    """The character-level steps alone (NFKC, invisible characters, marks, Latin folds).

    For a rule engine's literal patterns and vocabularies: folded with the text's own folds,
    "précédentes" in a rule matches "precedentes" in :func:`normalize`'s output. Look-alikes of
    other scripts, whitespace and spelling are left alone (they depend on the context of a text).
    """
    return _character_steps(text, [])
