"""Vault benchmark: (a) retrieval quality on third-party text with independent gold labels, the
relevance threshold behind "no support" answers, and (d) ingestion throughput.

(a) The corpus is the Python documentation as Debian ships it (``python3-doc``: HTML under
/usr/share/doc/python3-doc/html/): the FAQ, tutorial, how-to, language reference and "using"
pages, indexed by a real vault (the kernel's scanners and embedder). Gold labels come from the
FAQ pages' own structure: each question heading and the section under it (parsed here from the
HTML with a regular expression, not with the vault's parser). First, what the kernel's scanners
flag in these pages as documents (per scanner); then retrieval over the whole corpus, indexed
without scanners so that no gold section is missing because it was flagged. Two query sets:

* ``faq``: the 175 FAQ questions word for word. Each is its section's heading, and chunks carry
  their heading path, so this set is easy for words; it checks the plumbing at scale.
* ``paraphrased``: 30 questions written for this benchmark, in other words than the FAQ's, each
  labelled with the FAQ section that answers it. This is the set that measures meaning.

Recall@5 (the gold section among the first five passages) and MRR (over the first ten) for the
lexical, dense and hybrid modes. Then the relevance threshold: the question's cosine with the
best passage, for the answerable questions and for 25 questions the corpus cannot answer; the
table shows, per candidate threshold, the share of answerable questions kept and unanswerable
ones refused (the default ``min_relevance`` is chosen from it).

(d) Ingestion throughput: a generated tree of 10,000 files (Markdown, Python, text,
reStructuredText) indexed lexically, every chunk screened by the rule scanners (the semantic one with
``--semantic``): chunks/s;
then a refresh with nothing changed and one after 100 files changed; then, on a 300-file slice,
the same with the embedder (dense vectors cost most of the time).

Run::

    .venv/bin/python tests/benchmarks/bench_vault.py               # everything (~10-20 min on 2 busy cores)
    .venv/bin/python tests/benchmarks/bench_vault.py --only quality
    .venv/bin/python tests/benchmarks/bench_vault.py --only ingest --files 2000

Prints tables; the last line is JSON. Skips (exit 0, with a sentence) when python3-doc is missing.
"""

from __future__ import annotations

import argparse
import html
import json
import random
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DOCS = Path("/usr/share/doc/python3-doc/html")
CORPUS_PATTERNS = ["faq/*.html", "tutorial/*.html", "howto/*.html", "reference/*.html", "using/*.html"]
MODES = ("lexical", "dense", "hybrid")

#: Questions in other words than the FAQ's -> (FAQ page, the question heading that answers them).
PARAPHRASED: list[tuple[str, str, str]] = [
    ("Why is whitespace significant for blocks of code in Python?", "design.html",
     "Why does Python use indentation for grouping of statements?"),
    ("0.1 + 0.2 is not exactly 0.3, why is decimal math imprecise?", "design.html",
     "Why are floating-point calculations so inaccurate?"),
    ("Why can't I change a character of a str object?", "design.html", "Why are Python strings immutable?"),
    ("Is there something like a C switch statement to pick among many cases?", "design.html",
     "Why isn’t there a switch or case statement in Python?"),
    ("How are the built-in hash tables for mappings built inside the interpreter?", "design.html",
     "How are dictionaries implemented in CPython?"),
    ("Why does sorting a list in place give back None?", "design.html",
     "Why doesn’t list.sort() return the sorted list?"),
    ("How does the interpreter free objects nobody references any more?", "design.html",
     "How does Python manage memory?"),
    ("Why can't a list be used as a key of a dict?", "design.html", "Why must dictionary keys be immutable?"),
    ("I get an error that a local variable is referenced before assignment, but it is set at module level",
     "programming.html", "Why am I getting an UnboundLocalError when the variable has a value?"),
    ("All the closures I create in a for loop give back the value of the last iteration", "programming.html",
     "Why do lambdas defined in a loop with different values all return the same result?"),
    ("A mutable default argument keeps its contents between calls of my function", "programming.html",
     "Why are default values shared between objects?"),
    ("How can a function give back several results through its arguments, like pass by reference?",
     "programming.html", "How do I write a function with output parameters (call by reference)?"),
    ("How do I make a deep or shallow duplicate of an object?", "programming.html",
     "How do I copy an object in Python?"),
    ("Is there a conditional expression like a ? b : c?", "programming.html",
     "Is there an equivalent of C’s “?:” ternary operator?"),
    ("How do I parse an integer out of text such as '144'?", "programming.html",
     "How do I convert a string to a number?"),
    ("What is the fastest way to build one big string from many small pieces?", "programming.html",
     "What is the most efficient way to concatenate many strings together?"),
    ("How can I get the unique elements of a list?", "programming.html",
     "How do you remove duplicates from a list?"),
    ("Making a 2D grid with [[0] * 3] * 3 makes all rows change together", "programming.html",
     "How do I create a multidimensional list?"),
    ("How can I call the parent class's version of an overridden method?", "programming.html",
     "How do I call a method defined in a base class from a derived class that extends it?"),
    ("How do I memoize the results of a method?", "programming.html", "How do I cache method calls?"),
    ("Two modules import each other and one of them fails with an ImportError", "programming.html",
     "How can I have modules that mutually import each other?"),
    ("After changing a module's source, importing it again does not pick up my edits", "programming.html",
     "When I edit an imported module and reimport it, the changes don’t show up. Why does this happen?"),
    ("What is the Global Interpreter Lock and can it be removed?", "library.html",
     "Can’t we get rid of the Global Interpreter Lock?"),
    ("How can I duplicate a file on disk from Python code?", "library.html", "How do I copy a file?"),
    ("How do I send an e-mail message from a program?", "library.html", "How do I send mail from a Python script?"),
    ("How can I get pseudo-random values?", "library.html", "How do I generate random numbers in Python?"),
    ("How do I write unit tests for my code?", "library.html", "How do I test a Python program or component?"),
    ("Who owns the Python trademark and funds its development?", "general.html",
     "What is the Python Software Foundation?"),
    ("Where does the language's name come from?", "general.html", "Why is it called Python?"),
    ("Is it safe to uninstall the Python that came with my computer?", "installed.html", "Can I delete Python?"),
]

#: Questions these pages cannot answer: what a "no support" answer must be given for.
UNANSWERABLE = [
    "What is our refund policy for annual subscriptions?",
    "How many vacation days do new employees get?",
    "What is the boiling point of water at the top of Mount Everest?",
    "Who won the football world cup in 1998?",
    "How do I reset the password of my home wifi router?",
    "What is the recommended dose of ibuprofen for adults?",
    "Which train goes from Paris to Lyon in the morning?",
    "How long should I bake a sourdough loaf?",
    "What is the capital city of Australia?",
    "How do I change the oil in a diesel car engine?",
    "When is the office closed for the winter holidays?",
    "What are the symptoms of a vitamin D deficiency?",
    "How do I file my income tax return online?",
    "Which plants grow well in a shady garden?",
    "What is the warranty period for the laptop we sell?",
    "How do I knit a scarf for beginners?",
    "What time does the supermarket open on Sundays?",
    "How much does shipping to Canada cost?",
    "Who is the author of the novel Middlemarch?",
    "How do I train my dog to stop barking at night?",
    "What is the exchange rate between euros and yen today?",
    "How do I apply for a passport renewal?",
    "What are the rules of cricket?",
    "How do I remove a red wine stain from a carpet?",
    "What is the best season to visit Iceland?",
]

_SECTION_HEADING = re.compile(r"<h([2-4])[^>]*>(.*?)</h\1>", re.S)
_TAG = re.compile(r"<[^>]+>")


def faq_gold(faq_dir: Path) -> dict[str, set[tuple[str, str]]]:
    """Question -> {(page, question heading)} for every heading ending in '?' on the FAQ pages."""
    gold: dict[str, set[tuple[str, str]]] = {}
    for page in sorted(faq_dir.glob("*.html")):
        for match in _SECTION_HEADING.finditer(page.read_text(encoding="utf-8")):
            title = " ".join(html.unescape(_TAG.sub("", match.group(2))).split()).rstrip("¶").strip()
            if title.endswith("?"):
                gold.setdefault(title, set()).add((f"faq/{page.name}", title))
    return gold


def is_gold(passage: Any, answers: set[tuple[str, str]]) -> bool:
    """Whether a passage lies in one of the answering sections (same page, heading path ending in it)."""
    return any(passage.source == page and passage.heading.endswith(title) for page, title in answers)


def rank_of_gold(passages: list[Any], answers: set[tuple[str, str]]) -> int | None:
    return next((rank for rank, p in enumerate(passages, start=1) if is_gold(p, answers)), None)


def quality(vault: Any) -> dict[str, Any]:
    gold = faq_gold(DOCS / "faq")
    sets = {
        "faq": [(question, answers) for question, answers in sorted(gold.items())],
        "paraphrased": [(q, {(f"faq/{page}", title)}) for q, page, title in PARAPHRASED],
    }
    missing = [title for _, page, title in PARAPHRASED if title not in gold]
    if missing:
        raise SystemExit(f"paraphrase labels name FAQ questions that the pages do not have: {missing}")
    results: dict[str, Any] = {}
    print(f"\n(a) retrieval quality: {len(sets['faq'])} FAQ questions, {len(sets['paraphrased'])} paraphrased; "
          f"corpus {vault.stats()['files']} pages, {vault.stats()['chunks']} chunks")
    print(f"{'set':<12} {'mode':<8} {'recall@5':>9} {'MRR@10':>7} {'ms/query':>9}")
    for name, questions in sets.items():
        for mode in MODES:
            ranks = []
            started = time.perf_counter()
            for question, answers in questions:
                ranks.append(rank_of_gold(vault.search(question, k=10, mode=mode), answers))
            ms = (time.perf_counter() - started) * 1000 / len(questions)
            recall = sum(1 for r in ranks if r is not None and r <= 5) / len(ranks)
            mrr = sum(1 / r for r in ranks if r is not None) / len(ranks)
            results[f"{name}/{mode}"] = {"recall@5": round(recall, 3), "mrr": round(mrr, 3), "n": len(ranks),
                                         "ms_per_query": round(ms, 1)}
            print(f"{name:<12} {mode:<8} {recall:>9.3f} {mrr:>7.3f} {ms:>9.1f}")
    return results


def threshold(vault: Any) -> dict[str, Any]:
    """Top-passage relevance for answerable and unanswerable questions; the share of each kept."""
    gold = faq_gold(DOCS / "faq")
    answerable = [q for q, _, _ in PARAPHRASED] + sorted(gold)
    best = {}
    for group, questions in (("answerable", answerable), ("unanswerable", UNANSWERABLE)):
        best[group] = [max((p.relevance or 0.0 for p in vault.search(q, k=5)), default=0.0) for q in questions]
    print(f"\nrelevance of the best passage (cosine): answerable n={len(best['answerable'])} "
          f"min {min(best['answerable']):.2f} median {sorted(best['answerable'])[len(best['answerable']) // 2]:.2f}; "
          f"unanswerable n={len(best['unanswerable'])} max {max(best['unanswerable']):.2f} "
          f"median {sorted(best['unanswerable'])[len(best['unanswerable']) // 2]:.2f}")
    print(f"{'threshold':>9} {'answerable kept':>16} {'paraphrased kept':>17} {'unanswerable refused':>21}")
    table = {}
    for tenth in range(20, 56, 5):
        cut = tenth / 100
        kept = sum(v >= cut for v in best["answerable"]) / len(best["answerable"])
        para = sum(v >= cut for v in best["answerable"][:len(PARAPHRASED)]) / len(PARAPHRASED)
        refused = sum(v < cut for v in best["unanswerable"]) / len(best["unanswerable"])
        table[f"{cut:.2f}"] = {"answerable_kept": round(kept, 3), "paraphrased_kept": round(para, 3),
                               "unanswerable_refused": round(refused, 3)}
        print(f"{cut:>9.2f} {kept:>16.3f} {para:>17.3f} {refused:>21.3f}")
    return {"table": table, "answerable_min": round(min(best["answerable"]), 3),
            "unanswerable_max": round(max(best["unanswerable"]), 3)}


def screening(kernel: Any) -> dict[str, Any]:
    """What each active scanner flags (high or critical) among the corpus's chunks, scanned as documents."""
    from purpose_agent.models import ScanRequest
    from purpose_agent_vault.chunking import chunk_document

    pages = sorted(path for pattern in CORPUS_PATTERNS for path in DOCS.glob(pattern))
    chunks = [chunk.text for page in pages for chunk in chunk_document(page, page.read_bytes())]
    started = time.perf_counter()
    results = kernel.scan_many([ScanRequest(text=text, source="document") for text in chunks])
    seconds = time.perf_counter() - started
    per_scanner: dict[str, int] = {}
    flagged = 0
    for findings in results:
        blocking = {f.scanner for f in findings if f.severity.value in ("high", "critical")}
        flagged += bool(blocking)
        for name in blocking:
            per_scanner[name] = per_scanner.get(name, 0) + 1
    print(f"\nscreening the corpus as documents: {flagged} of {len(chunks)} chunks flagged "
          f"({flagged / len(chunks):.0%}) in {seconds:.0f} s; per scanner (a chunk may count for several):")
    for name, count in sorted(per_scanner.items(), key=lambda item: -item[1]):
        print(f"    {name:<18} {count:>5}  ({count / len(chunks):.0%})")
    return {"chunks": len(chunks), "flagged": flagged, "per_scanner": per_scanner, "seconds": round(seconds, 1)}


# --------------------------------------------------------------------------- (d) ingestion

_WORDS = ("index", "query", "vector", "cache", "retry", "timeout", "parser", "token", "schema", "deploy", "install",
          "memory", "budget", "critic", "plugin", "kernel", "scanner", "lesson", "answer", "citation", "document",
          "chunk", "heading", "section", "server", "client", "request", "response", "latency", "throughput")


def generate_tree(root: Path, files: int, seed: int = 7) -> None:
    """``files`` documents of 1-3 KB in nested directories: 60 % Markdown, 20 % Python, 10 % text, 10 % rST."""
    rng = random.Random(seed)

    def sentence() -> str:
        return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(8, 18))).capitalize() + "."

    def paragraph() -> str:
        return " ".join(sentence() for _ in range(rng.randint(2, 5)))

    for n in range(files):
        directory = root / f"area{n % 20:02d}" / f"topic{n % 7}"
        directory.mkdir(parents=True, exist_ok=True)
        kind = n % 10
        if kind < 6:
            body = f"# Note {n}\n\n{paragraph()}\n\n## Details\n\n{paragraph()}\n\n{paragraph()}\n\n## More\n\n{paragraph()}\n"
            (directory / f"note{n}.md").write_text(body, encoding="utf-8")
        elif kind < 8:
            functions = "\n\n".join(f'def step_{i}(value):\n    """{sentence()}"""\n    return value + {i}\n'
                                    for i in range(rng.randint(3, 8)))
            (directory / f"module{n}.py").write_text(f'"""{sentence()}"""\n\n{functions}', encoding="utf-8")
        elif kind < 9:
            (directory / f"log{n}.txt").write_text(f"{paragraph()}\n\n{paragraph()}\n", encoding="utf-8")
        else:
            body = f"Guide {n}\n=========\n\n{paragraph()}\n\nUsage\n-----\n\n{paragraph()}\n"
            (directory / f"guide{n}.rst").write_text(body, encoding="utf-8")


def ingest(files: int, embed_files: int, kernel: Any) -> dict[str, Any]:
    from purpose_agent_vault import Vault

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as scratch:
        tree = Path(scratch, "tree")
        generate_tree(tree, files)
        vault = Vault(tree, index_path=Path(scratch, "lexical.sqlite"), kernel=kernel, embedder=None)
        cpu = time.process_time()  # every thread of this process: the scanners run on workers
        first = vault.refresh()
        first_cpu = time.process_time() - cpu
        again = vault.refresh()
        changed = sorted(tree.rglob("*.md"))[:100]
        for path in changed:
            path.write_text(path.read_text(encoding="utf-8") + "\nAn added line.\n", encoding="utf-8")
        third = vault.refresh()
        vault.close()
        out["lexical"] = {"files": files, "chunks": first.chunks, "seconds": round(first.seconds, 2),
                          "chunks_per_s": round(first.chunks / first.seconds, 1),
                          "chunks_per_cpu_s": round(first.chunks / first_cpu, 1), "screened": first.screened, "unchanged_refresh_s": round(again.seconds, 2),
                          "changed_100_refresh_s": round(third.seconds, 2), "changed_100_chunks": third.chunks}
        print(f"\n(d) ingestion, {files} files, lexical, screened={first.screened}: {first.chunks} chunks in "
              f"{first.seconds:.1f} s = {first.chunks / first.seconds:.0f} chunks/s ({first.chunks / first_cpu:.0f} per "
              f"CPU-second); refresh with nothing changed "
              f"{again.seconds:.2f} s; after 100 files changed {third.seconds:.2f} s ({third.chunks} chunks re-indexed)")
        if embed_files:
            small = Path(scratch, "small")
            generate_tree(small, embed_files, seed=11)
            # A fresh vector cache, so every chunk is really embedded.
            vault = Vault(small, index_path=Path(scratch, "hybrid.sqlite"), kernel=kernel)
            vault.embedder.embed(["load the model before the clock starts"])
            cpu = time.process_time()
            report = vault.refresh()
            report_cpu = time.process_time() - cpu
            vault.close()
            out["hybrid"] = {"files": embed_files, "chunks": report.chunks, "seconds": round(report.seconds, 2),
                             "chunks_per_s": round(report.chunks / report.seconds, 1),
                             "chunks_per_cpu_s": round(report.chunks / report_cpu, 1),
                             "embedder": getattr(vault.embedder, "model_id", None)}
            print(f"    with the embedder ({out['hybrid']['embedder']}), {embed_files} files: {report.chunks} chunks "
                  f"in {report.seconds:.1f} s = {report.chunks / report.seconds:.1f} chunks/s "
                  f"({report.chunks / report_cpu:.1f} per CPU-second)")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=["quality", "ingest"], default=None)
    parser.add_argument("--files", type=int, default=10_000, help="files in the generated tree (default 10,000)")
    parser.add_argument("--embed-files", type=int, default=300, help="files for the run with embeddings (0: skip)")
    parser.add_argument("--skip-screening", action="store_true", help="do not tally what each scanner flags in the docs")
    parser.add_argument("--semantic", action="store_true", help="screen the generated tree with the semantic scanner too")
    args = parser.parse_args()

    import purpose_agent as pa

    with tempfile.TemporaryDirectory() as cache:
        # A private vector cache: figures measure embedding, not an earlier run's cache.
        kernel = pa.Kernel.load(overrides={"runtime": {"embedding_cache": str(Path(cache, "vectors.sqlite"))}})
        print(f"scanners: {', '.join(kernel.scanners()) or 'none'}")
        figures: dict[str, Any] = {}
        if args.only != "ingest":
            if not (DOCS / "faq" / "programming.html").is_file():
                print(f"skipped (a): the Python documentation is not installed at {DOCS}; "
                      "install it with: apt-get install python3-doc")
                figures["quality"] = "skipped: python3-doc not installed"
            else:
                from purpose_agent_vault import Vault

                if not args.skip_screening:
                    figures["screening"] = screening(kernel)
                # Retrieval is measured over the whole corpus: the same kernel without its
                # scanners, so no section is missing because a scanner flagged it (the table
                # above says how many would be).
                quiet = pa.Kernel.load(overrides={
                    "runtime": {"embedding_cache": str(Path(cache, "vectors.sqlite"))},
                    "plugins": {name: {"enabled": False} for name in kernel.scanners()}})
                index = Path(cache, "pydocs.sqlite")
                vault = Vault(DOCS, pattern=CORPUS_PATTERNS, index_path=index, kernel=quiet)
                report = vault.refresh()
                print(f"indexed the Python docs: {report.summary()}")
                figures["corpus"] = {"pages": len(report.added), "chunks": report.chunks, "flagged": report.flagged,
                                     "index_seconds": round(report.seconds, 1)}
                figures["quality"] = quality(vault)
                figures["threshold"] = threshold(vault)
                vault.close()
        if args.only != "quality":
            # The semantic scanner embeds every chunk it screens, so with it ingestion runs at
            # embedding speed (measured by the --embed-files part); the tree is screened by the
            # rule scanners unless --semantic.
            overrides: dict[str, Any] = {"runtime": {"embedding_cache": str(Path(cache, "vectors.sqlite"))}}
            if not args.semantic:
                overrides["plugins"] = {"immune-semantic": {"enabled": False}}
            ingest_kernel = pa.Kernel.load(overrides=overrides)
            print(f"\ningestion scanners: {', '.join(ingest_kernel.scanners()) or 'none'}")
            figures["ingest"] = ingest(args.files, args.embed_files, ingest_kernel)
            figures["ingest"]["scanners"] = ingest_kernel.scanners()
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
