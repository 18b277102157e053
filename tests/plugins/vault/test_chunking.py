"""Chunking by structure: each format's headings, line ranges, overlap and limits."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from documents import HTML, MARKDOWN, PDF_PAGES, PYTHON, RST, pdf_bytes

from purpose_agent_vault.chunking import Block, UnreadableDocument, chunk_document, pack


def chunks_of(name: str, text: str | bytes, **options):
    data = text if isinstance(text, bytes) else text.encode()
    return chunk_document(Path(name), data, **options)


def lines(text: str, start: int, end: int) -> str:
    return "\n".join(text.splitlines()[start - 1:end])


def test_markdown_sections_keep_heading_paths_and_exact_lines():
    chunks = chunks_of("handbook.md", MARKDOWN)
    by_heading = {c.heading: c for c in chunks}
    refunds = by_heading["Support handbook > Refunds"]
    assert (refunds.start, refunds.end) == (7, 8)
    assert lines(MARKDOWN, refunds.start, refunds.end) == refunds.text
    assert "Canada" in by_heading["Support handbook > Shipping"].text
    assert all("Canada" not in c.text for c in chunks if c.heading != "Support handbook > Shipping")


def test_markdown_fenced_code_is_one_block_and_its_hashes_are_not_headings():
    text = "# Setup\n\n```sh\n# install first\npip install x\n\npip check\n```\n\n## Next\n\nbody\n"
    chunks = chunks_of("a.md", text)
    assert chunks[0].heading == "Setup" and "# install first" in chunks[0].text and "pip check" in chunks[0].text
    assert [c.heading for c in chunks] == ["Setup", "Setup > Next"]


def test_markdown_setext_headings():
    chunks = chunks_of("a.md", "Title\n=====\n\nintro\n\nPart\n----\n\nbody\n")
    assert [(c.heading, c.text) for c in chunks] == [("Title", "intro"), ("Title > Part", "body")]


def test_rst_levels_follow_the_order_of_adornment_styles():
    chunks = chunks_of("release.rst", RST)
    assert [c.heading for c in chunks] == ["Release guide", "Release guide > Versioning",
                                           "Release guide > Versioning > Signing"]
    signing = chunks[-1]
    assert lines(RST, signing.start, signing.end) == signing.text


def test_html_headings_main_content_only_and_source_lines():
    chunks = chunks_of("office.html", HTML)
    text = " ".join(c.text for c in chunks)
    assert "tracking" not in text and "navigation" not in text and "copyright" not in text and "color" not in text
    hours = next(c for c in chunks if c.heading == "Office handbook > Opening hours")
    assert "opens at 8 in the morning and closes at 6" in hours.text and "public holidays" in hours.text
    assert "opens at 8" in lines(HTML, hours.start, hours.end)


def test_html_sphinx_header_links_do_not_end_up_in_headings():
    page = '<div role="main"><h2>Why?<a class="headerlink" href="#why" title="Link">¶</a></h2><p>Because.</p></div>'
    [chunk] = chunks_of("faq.html", page)
    assert chunk.heading == "Why?" and chunk.text == "Because."


def test_python_functions_and_classes_are_their_own_chunks():
    chunks = chunks_of("billing.py", PYTHON)
    by_heading = {c.heading: c for c in chunks}
    assert set(by_heading) == {"", "def gross_price", "class Invoice"}
    function = by_heading["def gross_price"]
    assert function.text.startswith("def gross_price") and lines(PYTHON, function.start, function.end) == function.text


def test_a_long_python_class_is_split_into_methods():
    methods = "\n\n".join(f"    def method_{n}(self):\n        " + f"return {n}  # " + "x" * 200 for n in range(8))
    source = f"class Big:\n    '''Doc.'''\n\n{methods}\n"
    chunks = chunks_of("big.py", source)
    assert {c.heading for c in chunks} >= {"class Big > def method_0", "class Big > def method_7"}
    assert all(len(c.text) <= 1200 for c in chunks)


def test_python_that_does_not_parse_is_read_as_paragraphs():
    chunks = chunks_of("broken.py", "def broken(:\n    pass\n\nsecond paragraph\n")
    assert [(c.text, c.start, c.end, c.heading) for c in chunks] == [
        ("def broken(:\n    pass\n\nsecond paragraph", 1, 4, "")]


def test_pdf_text_is_cited_by_pages():
    chunks = chunks_of("warranty.pdf", pdf_bytes(PDF_PAGES))
    assert "two year warranty" in " ".join(c.text for c in chunks)
    warranty = next(c for c in chunks if "two year warranty" in c.text)
    assert warranty.end == 2


def test_a_damaged_pdf_is_an_unreadable_document_with_a_reason():
    with pytest.raises(UnreadableDocument, match="not a readable PDF"):
        chunks_of("broken.pdf", b"%PDF-1.4\nthis is not a pdf at all")


def test_long_sections_are_split_with_overlap_within_the_limit():
    paragraphs = [f"Paragraph {n} " + "word " * 60 for n in range(12)]
    chunks = chunks_of("long.md", "# Long\n\n" + "\n\n".join(paragraphs) + "\n")
    assert len(chunks) > 2 and all(len(c.text) <= 1200 for c in chunks)
    for before, after in itertools.pairwise(chunks):
        assert before.text.split("\n\n")[-1] == after.text.split("\n\n")[0]  # the overlap
        assert after.start <= before.end
    assert chunks[0].start == 3 and chunks[-1].end == 3 + 2 * 11


def test_one_enormous_line_is_cut_at_word_boundaries():
    [*chunks] = pack([Block("alpha " * 1000, 4, 4)], max_chars=500)
    assert len(chunks) >= 12 and all(len(c.text) <= 500 and (c.start, c.end) == (4, 4) for c in chunks)
    assert all(not c.text.endswith("alph") for c in chunks)


def test_chunks_never_span_two_sections():
    chunks = chunks_of("a.md", "# A\n\nshort\n\n# B\n\nalso short\n")
    assert [(c.heading, c.text) for c in chunks] == [("A", "short"), ("B", "also short")]


SPHINX_FAQ = Path("/usr/share/doc/python3-doc/html/faq/library.html")


@pytest.mark.skipif(not SPHINX_FAQ.is_file(), reason="the Python documentation is not installed (apt-get install python3-doc)")
def test_a_real_sphinx_page_keeps_its_questions_and_drops_its_navigation():
    page = SPHINX_FAQ.read_bytes()
    chunks = chunks_of("library.html", page)
    copy = [c for c in chunks if c.heading.endswith("How do I copy a file?")]
    assert copy and all(c.heading.startswith("Library and Extension FAQ > ") for c in copy)
    assert "shutil" in " ".join(c.text for c in copy)
    text = " ".join(c.text for c in chunks)
    assert "Previous topic" not in text and "Quick search" not in text and "¶" not in " ".join(c.heading for c in chunks)
    source = page.decode().splitlines()
    assert any("shutil" in line for line in source[copy[0].start - 1:copy[-1].end])
