"""Cutting documents into chunks along their structure.

A document is first read into **blocks**: runs of lines that belong together (a paragraph, a
fenced code block, a Python function) under a **heading path** (``("Install", "From source")``,
``("class Vault", "def search")``). Blocks are then packed into chunks of at most
``max_chars``: a section's blocks stay together when they fit, a chunk never spans two
sections, and consecutive chunks of one section overlap by the last block of the previous one
when that block is short (``overlap_chars``), so a sentence that needs its neighbour still
finds it. Every chunk keeps its file's line range (for a PDF, its page range).

Formats: Markdown, reStructuredText, HTML (the stdlib parser), Python (``ast``: functions and
classes), PDF (``pypdf``, imported on first use), and plain text or any other source file
(paragraphs separated by blank lines).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

#: Largest chunk, in characters. all-MiniLM-L6-v2 reads about 180-200 English words (256 word
#: pieces); a chunk of this size is seen whole by the default embedder.
MAX_CHARS = 1200
#: A section's next chunk repeats the previous chunk's last block when the block is this short.
OVERLAP_CHARS = 400

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdown", ".mkd"})
RST_SUFFIXES = frozenset({".rst", ".rest"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
PDF_SUFFIXES = frozenset({".pdf"})
PYTHON_SUFFIXES = frozenset({".py", ".pyi"})
TEXT_SUFFIXES = frozenset({".txt", ".text", ""})
SOURCE_SUFFIXES = frozenset({
    ".c", ".h", ".cc", ".cpp", ".hpp", ".cs", ".go", ".rs", ".java", ".kt", ".scala", ".swift", ".js", ".jsx",
    ".ts", ".tsx", ".mjs", ".rb", ".php", ".lua", ".sh", ".bash", ".zsh", ".sql", ".r", ".jl", ".toml", ".yaml",
    ".yml", ".ini", ".cfg", ".json",
})
#: Every suffix a vault reads by default.
SUPPORTED_SUFFIXES = (MARKDOWN_SUFFIXES | RST_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES | PYTHON_SUFFIXES
                      | TEXT_SUFFIXES | SOURCE_SUFFIXES)


@dataclass(frozen=True)
class Block:
    """Lines ``start``-``end`` (1-based, inclusive) of a document that belong together."""

    text: str
    start: int
    end: int
    headings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Chunk(Block):
    """One retrievable piece of a document: blocks packed to the retrieval size, with the same
    text, line (or page) range and heading path."""

    @property
    def heading(self) -> str:
        """The heading path joined with `` > `` (empty at the top of a document)."""
        return " > ".join(self.headings)


class UnreadableDocument(ValueError):
    """A file the vault cannot read as its suffix says (a damaged PDF, say); the sentence says why."""


def chunk_document(path: Path, data: bytes, *, max_chars: int = MAX_CHARS,
                   overlap_chars: int = OVERLAP_CHARS) -> list[Chunk]:
    """The chunks of one document, by its suffix; raises :class:`UnreadableDocument`."""
    suffix = path.suffix.lower()
    if suffix in PDF_SUFFIXES:
        blocks = pdf_blocks(data)
    else:
        text = decode(data)
        if suffix in MARKDOWN_SUFFIXES:
            blocks = markdown_blocks(text)
        elif suffix in RST_SUFFIXES:
            blocks = rst_blocks(text)
        elif suffix in HTML_SUFFIXES:
            blocks = html_blocks(text)
        elif suffix in PYTHON_SUFFIXES:
            blocks = python_blocks(text)
        else:
            blocks = paragraph_blocks(text.splitlines())
    return pack(blocks, max_chars=max_chars, overlap_chars=overlap_chars)


def decode(data: bytes) -> str:
    """UTF-8 text (a BOM dropped); bytes that are not UTF-8 are replaced, not fatal."""
    return data.decode("utf-8-sig", errors="replace")


# --------------------------------------------------------------------------- packing


def pack(blocks: Iterable[Block], *, max_chars: int = MAX_CHARS, overlap_chars: int = OVERLAP_CHARS) -> list[Chunk]:
    """Blocks packed into chunks of at most ``max_chars`` (a longer block is split by lines, a longer
    line by characters), never across a change of heading path, with overlap inside a section."""
    chunks: list[Chunk] = []
    current: list[Block] = []

    def emit() -> None:
        chunks.append(Chunk("\n\n".join(b.text for b in current), current[0].start, current[-1].end,
                            current[0].headings))

    for block in _split_long(blocks, max_chars):
        if current and current[0].headings != block.headings:
            emit()
            current = []
        elif current and sum(len(b.text) + 2 for b in current) + len(block.text) > max_chars:
            emit()
            last = current[-1]
            # Overlap: repeat a short last block, unless it was the whole chunk (a duplicate).
            keep = len(current) > 1 and len(last.text) <= overlap_chars and \
                len(last.text) + 2 + len(block.text) <= max_chars
            current = [last] if keep else []
        current.append(block)
    if current:
        emit()
    return chunks


def _split_long(blocks: Iterable[Block], max_chars: int) -> Iterable[Block]:
    """Each block, or, when longer than ``max_chars``, its lines grouped into pieces that fit."""
    for block in blocks:
        if not block.text.strip():
            continue
        if len(block.text) <= max_chars:
            yield block
            continue
        lines = block.text.split("\n")
        piece: list[str] = []
        piece_start = block.start
        for offset, line in enumerate(lines):
            number = min(block.start + offset, block.end)
            while len(line) > max_chars:  # one enormous line (minified code, a table): cut by characters
                if piece:
                    yield Block("\n".join(piece), piece_start, number, block.headings)
                    piece = []
                cut = line.rfind(" ", max_chars // 2, max_chars) + 1 or max_chars  # at a word boundary if any
                yield Block(line[:cut].rstrip(), number, number, block.headings)
                line = line[cut:]
                piece_start = number
            if piece and sum(len(p) + 1 for p in piece) + len(line) > max_chars:
                yield Block("\n".join(piece), piece_start, number - 1 if number > piece_start else number,
                            block.headings)
                piece = []
            if not piece:
                piece_start = number
            piece.append(line)
        if "\n".join(piece).strip():
            yield Block("\n".join(piece), piece_start, block.end, block.headings)


# --------------------------------------------------------------------------- plain text


def paragraph_blocks(lines: Sequence[str], *, first_line: int = 1,
                     headings: tuple[str, ...] = ()) -> list[Block]:
    """Paragraphs: runs of non-blank lines (``first_line`` is the number of ``lines[0]``)."""
    blocks: list[Block] = []
    start: int | None = None
    for offset, line in enumerate([*lines, ""]):
        if line.strip():
            if start is None:
                start = offset
        elif start is not None:
            blocks.append(Block("\n".join(lines[start:offset]).strip("\n"), first_line + start,
                                first_line + offset - 1, headings))
            start = None
    return blocks


# --------------------------------------------------------------------------- Markdown

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t#]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")


def markdown_blocks(text: str) -> list[Block]:
    """Blocks under ATX (``## Title``) and setext (underlined) headings; a fenced code block is one
    block, and a ``#`` inside it is not a heading."""
    lines = text.splitlines()
    blocks: list[Block] = []
    path: list[tuple[int, str]] = []
    body: list[tuple[int, str]] = []  # (line number, text) of the current paragraph
    fence: str | None = None

    def headings() -> tuple[str, ...]:
        return tuple(title for _, title in path)

    def end_paragraph() -> None:
        if body:
            blocks.append(Block("\n".join(t for _, t in body), body[0][0], body[-1][0], headings()))
            body.clear()

    def open_heading(level: int, title: str) -> None:
        end_paragraph()
        while path and path[-1][0] >= level:
            path.pop()
        path.append((level, title.strip()))

    for number, line in enumerate(lines, start=1):
        if fence is not None:
            body.append((number, line))
            if line.strip().startswith(fence):
                fence = None
                end_paragraph()
            continue
        opened = _FENCE.match(line)
        if opened:
            end_paragraph()
            fence = opened.group(1)[0] * 3
            body.append((number, line))
            continue
        atx = _ATX.match(line)
        if atx:
            open_heading(len(atx.group(1)), atx.group(2) or "")
            continue
        setext = _SETEXT.match(line)
        if setext and len(body) == 1 and body[0][1].strip():
            title = body.pop()[1]
            open_heading(1 if setext.group(1)[0] == "=" else 2, title)
            continue
        if line.strip():
            body.append((number, line))
        else:
            end_paragraph()
    end_paragraph()
    return blocks


# --------------------------------------------------------------------------- reStructuredText

_RST_ADORNMENT = re.compile(r"^([!-/:-@\[-`{-~])\1{2,}\s*$")


def rst_blocks(text: str) -> list[Block]:
    """Blocks under reStructuredText section titles (a title underlined, optionally also
    overlined, by one repeated punctuation character); levels follow the order in which the
    adornment styles first appear, as docutils does."""
    lines = text.splitlines()
    styles: list[tuple[str, bool]] = []
    path: list[tuple[int, str]] = []
    blocks: list[Block] = []
    segment_start = 0
    index = 0

    def close_segment(end: int) -> None:
        blocks.extend(paragraph_blocks(lines[segment_start:end], first_line=segment_start + 1,
                                       headings=tuple(title for _, title in path)))

    while index < len(lines):
        title_at, style = _rst_title(lines, index)
        if style is None:
            index += 1
            continue
        close_segment(index)
        if style not in styles:
            styles.append(style)
        level = styles.index(style)
        while path and path[-1][0] >= level:
            path.pop()
        path.append((level, lines[title_at].strip()))
        index = title_at + 2  # past the underline
        segment_start = index
    close_segment(len(lines))
    return blocks


def _rst_title(lines: Sequence[str], index: int) -> tuple[int, tuple[str, bool] | None]:
    """``(title line, (character, overlined))`` when a section title starts at ``index``."""
    line = lines[index]
    over = _RST_ADORNMENT.match(line)
    if over and index + 2 < len(lines):  # overline, title, underline
        title, underline = lines[index + 1], lines[index + 2]
        if title.strip() and underline.strip() == line.strip() and len(line.strip()) >= len(title.strip()):
            return index + 1, (over.group(1), True)
    if index + 1 < len(lines) and line.strip() and not line.startswith((" ", "\t")) and not over:
        under = _RST_ADORNMENT.match(lines[index + 1])
        if under and len(lines[index + 1].rstrip()) >= len(line.rstrip()):
            return index, (under.group(1), False)
    return index, None


# --------------------------------------------------------------------------- Python


def python_blocks(text: str) -> list[Block]:
    """The module's docstring and top-level code as paragraphs, each function and class as a block
    headed ``def name`` / ``class Name`` (a long class: each method headed ``class Name > def
    method``). A file that does not parse is read as plain text."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return paragraph_blocks(text.splitlines())
    lines = text.splitlines()
    blocks: list[Block] = []
    covered = 0  # lines before this index are in a block already

    def loose(end: int, headings: tuple[str, ...] = ()) -> None:
        nonlocal covered
        if end > covered:
            blocks.extend(paragraph_blocks(lines[covered:end], first_line=covered + 1, headings=headings))
        covered = max(covered, end)

    def definition(node: ast.AST, headings: tuple[str, ...]) -> None:
        nonlocal covered
        assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        last = node.end_lineno or node.lineno
        loose(first - 1, headings[:-1])
        source = "\n".join(lines[first - 1:last])
        members = [n for n in node.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)]
        if isinstance(node, ast.ClassDef) and len(source) > MAX_CHARS and members:
            for member in members:
                definition(member, (*headings, _title(member)))
            loose(last, headings)
            return
        blocks.append(Block(source, first, last, headings))
        covered = last

    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            definition(node, (_title(node),))
    loose(len(lines))
    return blocks


def _title(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> str:
    kind = "class" if isinstance(node, ast.ClassDef) else "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
    return f"{kind} {node.name}"


# --------------------------------------------------------------------------- HTML

_HTML_BLOCK_TAGS = frozenset({
    "p", "div", "li", "ul", "ol", "dl", "dt", "dd", "pre", "blockquote", "table", "tr", "section", "article",
    "main", "aside", "figure", "figcaption", "br", "hr", "form", "details", "summary",
})
_HTML_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_HTML_SKIPPED = frozenset({"script", "style", "nav", "noscript", "template", "head", "svg", "header", "footer"})
_HTML_VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "source", "wbr"})
_HEADER_LINK_MARKS = "\u00b6#\u2191"  # the pilcrow and anchors documentation generators append to headings


class _HTMLReader(HTMLParser):
    """Collects text blocks with their source lines and heading paths, outside navigation."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[Block, bool]] = []  # (block, inside a main region)
        self.path: list[tuple[int, str]] = []
        self.text: list[str] = []
        self.start_line = 0
        self.end_line = 0
        self.heading: int | None = None
        self.skip_depth = 0
        self.stack: list[tuple[str, bool, bool]] = []  # (tag, skipped, main)
        self.main_depth = 0
        self.pre_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        role = (attributes.get("role") or "").lower()
        classes = (attributes.get("class") or "").split()
        skipped = tag in _HTML_SKIPPED or role in ("navigation", "banner", "contentinfo", "search") or \
            "sphinxsidebar" in classes or "related" in classes or "headerlink" in classes
        main = tag == "main" or role == "main"
        if tag in _HTML_BLOCK_TAGS or tag in _HTML_HEADINGS:
            self.end_block()
        if tag in _HTML_HEADINGS and not self.skip_depth:
            self.heading = _HTML_HEADINGS[tag]
        if tag == "pre":
            self.pre_depth += 1
        if tag in _HTML_VOID:
            return
        self.stack.append((tag, skipped, main))
        self.skip_depth += skipped
        self.main_depth += main

    def handle_endtag(self, tag: str) -> None:
        if tag in _HTML_VOID or not any(open_tag == tag for open_tag, _, _ in self.stack):
            return
        if tag in _HTML_HEADINGS and self.heading is not None:
            title = " ".join("".join(self.text).split()).strip(_HEADER_LINK_MARKS + " ")
            self.text.clear()
            while self.path and self.path[-1][0] >= self.heading:
                self.path.pop()
            if title:
                self.path.append((self.heading, title))
            self.heading = None
        elif tag in _HTML_BLOCK_TAGS:
            self.end_block()
        if tag == "pre":
            self.pre_depth = max(0, self.pre_depth - 1)
        while self.stack:  # close the innermost matching tag and anything left open inside it
            open_tag, skipped, main = self.stack.pop()
            self.skip_depth -= skipped
            self.main_depth -= main
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if not self.text or not "".join(self.text).strip():
            self.start_line = self.getpos()[0]
        self.text.append(data if self.pre_depth else re.sub(r"\s+", " ", data))
        self.end_line = self.getpos()[0] + data.count("\n")

    def end_block(self) -> None:
        if self.heading is not None:
            return  # text inside a heading is its title, taken at the heading's end tag
        text = "".join(self.text).strip()
        self.text.clear()
        if text:
            block = Block(text, self.start_line, max(self.start_line, self.end_line), tuple(t for _, t in self.path))
            self.blocks.append((block, self.main_depth > 0))


def html_blocks(text: str) -> list[Block]:
    """Blocks of an HTML page under its ``h1``-``h6`` headings, without scripts, styles and
    navigation; when the page marks its main content (``<main>``, ``role="main"``), only that."""
    reader = _HTMLReader()
    reader.feed(text)
    reader.close()
    reader.end_block()
    in_main = [block for block, main in reader.blocks if main]
    return in_main or [block for block, _ in reader.blocks]


# --------------------------------------------------------------------------- PDF


def pdf_blocks(data: bytes) -> list[Block]:
    """Paragraphs of each page's text; a block's range is its page number (PDF text has no
    stable lines), so a PDF chunk is cited by pages."""
    import io

    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError as exc:  # a declared dependency; a broken environment says what to do
        raise UnreadableDocument("reading PDF files needs pypdf: pip install pypdf") from exc
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise UnreadableDocument(f"not a readable PDF ({type(exc).__name__}: {exc})") from exc
    blocks: list[Block] = []
    for number, page_text in enumerate(pages, start=1):
        for paragraph in paragraph_blocks(page_text.splitlines()):
            blocks.append(Block(paragraph.text, number, number))
    return blocks
