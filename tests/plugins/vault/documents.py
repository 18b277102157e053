"""Real documents of every format the vault reads, written into a test's directory."""

from __future__ import annotations

from pathlib import Path


def pdf_bytes(pages: list[list[str]]) -> bytes:
    """A minimal, valid PDF 1.4 file: one page per entry, each line of text drawn with Helvetica
    (the cross-reference table has the real byte offsets, so any reader opens it)."""
    objects: list[bytes] = []
    page_ids = [3 + 2 * n for n in range(len(pages))]
    font_id = 3 + 2 * len(pages)
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{i} 0 R" for i in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    for n, lines in enumerate(pages):
        content = "BT /F1 12 Tf 72 720 Td 14 TL " + " ".join(
            "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") Tj T*" for line in lines
        ) + " ET"
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {page_ids[n] + 1} 0 R "
                       f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode())
        objects.append(f"<< /Length {len(content)} >>\nstream\n{content}\nendstream".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


MARKDOWN = """\
# Support handbook

Everything the support team needs.

## Refunds

Customers may ask for a refund within 30 days of purchase.
Refunds go back to the original payment method.

## Shipping

Parcels to Canada cost 12 euros and arrive within 9 working days.
"""

RST = """\
=============
Release guide
=============

How releases are cut.

Versioning
----------

Version numbers follow semantic versioning: major, minor, patch.

Signing
~~~~~~~

Every release tarball is signed with the release manager's OpenPGP key.
"""

HTML = """\
<!DOCTYPE html>
<html><head><title>Office</title><style>body { color: red }</style>
<script>var tracking = "do not index me";</script></head>
<body>
<nav><a href="/">Home</a> navigation links</nav>
<main>
<h1>Office handbook</h1>
<p>The office is in the old mill building.</p>
<h2>Opening hours</h2>
<p>The office opens at 8 in the morning
and closes at 6 in the evening.</p>
<ul><li>Closed on public holidays.</li></ul>
</main>
<footer>copyright footer text</footer>
</body></html>
"""

PYTHON = '''\
"""Billing helpers."""

import math

TAX_RATE = 0.2


def gross_price(net: float) -> float:
    """The price with value-added tax."""
    return round(net * (1 + TAX_RATE), 2)


class Invoice:
    """An invoice with lines."""

    def total(self) -> float:
        return math.fsum(self.lines)
'''

TEXT = """\
Meeting notes, March.

The team agreed to move the weekly meeting to Thursday afternoons.

Action: Dana books the large room.
"""

PDF_PAGES = [["Warranty terms"], ["Every laptop we sell carries a two year warranty.", "Batteries: one year."]]


def write_documents(root: Path) -> Path:
    """One document of each format under ``root`` (a subdirectory for the Python file)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "handbook.md").write_text(MARKDOWN, encoding="utf-8")
    (root / "release.rst").write_text(RST, encoding="utf-8")
    (root / "office.html").write_text(HTML, encoding="utf-8")
    (root / "src").mkdir(exist_ok=True)
    (root / "src" / "billing.py").write_text(PYTHON, encoding="utf-8")
    (root / "notes.txt").write_text(TEXT, encoding="utf-8")
    (root / "warranty.pdf").write_bytes(pdf_bytes(PDF_PAGES))
    return root
