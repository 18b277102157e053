"""Throughput of the five immune scanners on one core, their time on adversarial inputs, and quality.

Run: ``.venv/bin/python tests/benchmarks/bench_immune.py [--lessons N] [--data FILE.jsonl] [--holdout]``

Lessons are the benign agent rules of ``../shared/eval/benign_lessons_dev.jsonl`` (cycled to N),
or a built-in synthetic set when that file is absent. Three figures:

* ``direct``: each scanner module's ``SCANNER.scan`` called as a plain function (building the
  ``ScanRequest`` inside the timed loop, which the kernel runs below do not);
* ``kernel``: ``Kernel.scan(ScanRequest(...))`` on a kernel built from the five plugins
  (the path memory CI and ``immune eval`` use, with per-plugin dispatch and fail-closed checks);
* ``installed``: the same through ``Kernel.load()`` (entry points, layered config), when the
  distribution is installed.

Then the worst time of all five scanners together on adversarial inputs of 10 KB, 100 KB and 1 MB
(long runs of gate words, role labels and newlines, URL-like text, separators, encodings, and
generated text in which every token is new: distinct leetspeak, distinct misspellings of the key
words, random base64, random printable ASCII, letters of many scripts, one token without a
separator, scripts alternating per letter, Zalgo marks, format characters between letters, CRLF
only, JSON escapes; the target is any 1 MB input in at most 1 s; the CPU time is printed beside
the wall-clock time, which other jobs on a shared machine stretch). At 1 MB a real benign
document is timed too (the python3-doc sources, else the repository's docs) with its number of
findings, and with the semantic tier installed every 1 MB line adds "with semantic" (all six
scanners' CPU time). Then the quality on ``../shared/eval/``: attack recall and
benign false-positive rate of ``injection_dev.jsonl`` on the tune split (``--holdout`` adds the
held-out fifth, which should be looked at rarely) and the false-positive rate on the benign lessons.

``--long-only`` times only the 1 MB inputs (after the same 10 KB and 100 KB warm-up, no lessons,
no quality). ``--against DIR`` times them side by side with another version of the scanners: a
worker process imports ``purpose_agent_immune`` from ``DIR`` (for example the sources of an earlier
commit: ``git archive <commit> plugins/immune/src | tar -x -C DIR`` and pass
``DIR/plugins/immune/src``), warms up the same way, and each input is timed once in each version,
the two in turn (CPU and wall seconds), so both versions see the same load; before them the
lessons are timed in both versions (CPU per lesson on one core, fresh processes in turn).
``--stages`` prints, per 1 MB input, the CPU seconds of each stage of ``immune-injection``
(normalising, rules, spans, each detector function) and of the other four scanners.

The lessons are timed on one core (the rule tier's target is per core); the adversarial and
1 MB inputs on every core the process may use (the 1 MB target is for this machine: a long
text's rules run on a helper thread beside the detector functions).

The last line is JSON: ``{"lessons": …, "seconds": …, "lessons_per_s": …, "adversarial_s": {size: …},
"tune_recall": …, "tune_benign_fpr": …, "lessons_fpr": …}``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import string
import time
from collections.abc import Callable
from itertools import cycle, islice
from pathlib import Path

from purpose_agent.models import ScanRequest
from purpose_agent.testing import make_kernel
from purpose_agent_immune import injection, plugins, privacy, scope, score, tools

MODULES = (injection, score, tools, privacy, scope)
PLUGINS = (plugins.injection, plugins.score, plugins.tools, plugins.privacy, plugins.scope)
IDS = ("immune-injection", "immune-score", "immune-tools", "immune-privacy", "immune-scope")
EVAL_DIR = Path(__file__).resolve().parents[3] / "shared" / "eval"
DEFAULT_DATA = EVAL_DIR / "benign_lessons_dev.jsonl"
#: Repeated to the input size: gate words, role labels and newlines, URL-like runs, separators,
#: encodings, questions and dialogue turns (the shapes that made the old rules quadratic).
ADVERSARIAL = (
    "system:\n",
    "ignore all previous ",
    "http://a.b/x/",
    " \n\t",
    "aGVsbG8gd29ybGQgaGVsbG8gd29ybGQ= ",
    ".- ",
    "you are now what do you think ",
    "Q: x A: y ",
    "41 ",
    "%41",
    "1gn0r3 ",
    "reply in french ",
    "Alice: hi\n",
    "why? ",
    "\\n ",
    "password = '",
)


def _distinct(size: int, word: Callable[[random.Random], str]) -> str:
    """Words from ``word`` (seeded, so every run draws the same) joined by spaces up to ``size``."""
    rng = random.Random(size)
    parts: list[str] = []
    length = 0
    while length < size:
        parts.append(word(rng))
        length += len(parts[-1]) + 1
    return " ".join(parts)[:size]


def _misspelt(rng: random.Random) -> str:
    from purpose_agent_immune.normalize import DEFAULT_VOCABULARY

    letters = list(rng.choice(sorted(w for w in DEFAULT_VOCABULARY if len(w) >= 6)))
    for _ in range(rng.randint(1, 2)):
        letters[rng.randrange(len(letters))] = rng.choice(string.ascii_lowercase)
    return "".join(letters)


def _dictionary_word(rng: random.Random) -> str:
    """A pronounceable made-up word of dictionary shape (consonant-vowel syllables), 4-14 letters."""
    syllables = rng.randint(2, 5)
    return "".join(rng.choice("bcdfghjklmnprstvwz") + rng.choice("aeiou") for _ in range(syllables))[
        : rng.randint(4, 14)
    ]


#: Letters of several scripts (Latin with marks, Greek, Cyrillic, Armenian, Hebrew, Arabic,
#: Devanagari, Thai, kana, CJK, Hangul) and fullwidth forms.
_UNICODE_LETTERS = "".join(
    chr(c)
    for low, high in (
        (0xC0, 0x17F),
        (0x391, 0x3C9),
        (0x410, 0x44F),
        (0x531, 0x556),
        (0x5D0, 0x5EA),
        (0x627, 0x64A),
        (0x905, 0x939),
        (0xE01, 0xE2E),
        (0x3041, 0x3096),
        (0x4E00, 0x4FFF),
        (0xAC00, 0xADFF),
        (0xFF21, 0xFF3A),
    )
    for c in range(low, high + 1)
)
#: Cyrillic and Greek letters that look like Latin ones, for words that mix the scripts.
_LOOK_ALIKES = "аеорсухіјѕԁɡοαικνρτυ"


def _mixed_script_word(rng: random.Random) -> str:
    letters = list(rng.choice(("ignore", "system", "prompt", "reveal", "secret")) + _dictionary_word(rng))
    for _ in range(rng.randint(1, 3)):
        letters[rng.randrange(len(letters))] = rng.choice(_LOOK_ALIKES)
    return "".join(letters)


_OTHER_SCRIPTS = (
    _LOOK_ALIKES
    + "".join(chr(c) for c in range(0x3B1, 0x3CA))
    + "".join(chr(c) for c in range(0x430, 0x450))
    + "".join(chr(c) for c in range(0x561, 0x587))
)


def _alternating_word(rng: random.Random) -> str:
    """A made-up word whose every other letter is from another script."""
    return "".join(
        rng.choice(string.ascii_lowercase) if i % 2 == 0 else rng.choice(_OTHER_SCRIPTS)
        for i in range(rng.randint(3, 10))
    )


def _zalgo_word(rng: random.Random) -> str:
    return "".join(
        letter + "".join(chr(rng.randrange(0x300, 0x370)) for _ in range(rng.randint(1, 4)))
        for letter in _dictionary_word(rng)
    )


_FORMAT_CHARACTERS = "\u00ad\u200b\u200c\u200d\u2060\u200e\u202a\u202c\ufeff\u2066"


def _formatted_word(rng: random.Random) -> str:
    word = (
        rng.choice(("ignore", "previous", "instructions", "system", "prompt"))
        if rng.random() < 0.3
        else _dictionary_word(rng)
    )
    return "".join(letter + rng.choice(_FORMAT_CHARACTERS) for letter in word)


def _json_escaped(size: int) -> str:
    text = _distinct(size, lambda r: _dictionary_word(r) + ("\n" if r.random() < 0.1 else ""))
    return json.dumps(text).replace("a", "\\u0061").replace("e", "\\u0065")[:size]


def _nested(rng: random.Random) -> str:
    """Base64 of base64 (or of hex) of random words: every layer decodes to something readable."""
    plain = " ".join(_dictionary_word(rng) for _ in range(rng.randint(3, 8))).encode()
    inner = base64.b64encode(plain) if rng.random() < 0.5 else plain.hex().encode()
    return base64.b64encode(inner).decode()


def _every_trigger(rng: random.Random) -> str:
    """One of each decoder's triggers (Caesar, reversed, Atbash, escapes, Morse, binary, decimal,
    base64, hex) with random words between them, so no two pieces repeat."""
    word = _dictionary_word(rng)
    return " ".join(
        (
            rng.choice(("vtaber", "erongi", "rtmliv", "gcjiwb")),
            word,
            "%" + "%".join(f"{ord(c):02X}" for c in word),
            " ".join(".-" * rng.randint(1, 3) for _ in range(8)),
            " ".join(format(ord(c), "08b") for c in word + "xy"),
            " ".join(str(ord(c)) for c in word + "abcd"),
            base64.b64encode((word * 3).encode()).decode(),
            (word * 3).encode().hex(),
        )
    )


#: Generated inputs that no cache helps: every token is new (distinct leetspeak tokens, distinct
#: misspellings of the key words, random base64 runs, random printable ASCII, made-up words,
#: letters of many scripts, look-alike letters inside words, one line without spaces, nested
#: encodings, every decoder's trigger again and again).
GENERATED: dict[str, Callable[[int], str]] = {
    "distinct leet": lambda size: _distinct(
        size, lambda r: r.choice("abcdefgh") + "".join(r.choices("abcdefghij0123456789@$", k=r.randint(3, 9)))
    ),
    "misspellings": lambda size: _distinct(size, _misspelt),
    "random base64": lambda size: _distinct(
        size, lambda r: base64.b64encode(bytes(r.randrange(32, 127) for _ in range(r.randint(20, 60)))).decode()
    ),
    "printable": lambda size: "".join(random.Random(size).choices(string.printable[:95], k=size)),
    # distinct leetspeak behind one trigger each of the Caesar (ROT13 "ignore"), reversed, Atbash
    # and escape decoders: each decodes the whole text and scans it again
    "leet + decoders": lambda size: ("vtaber erongi rtmliv %41%41%41%41%41%41 " + GENERATED["distinct leet"](size))[
        :size
    ],
    "dictionary words": lambda size: _distinct(size, _dictionary_word),
    "unicode letters": lambda size: _distinct(size, lambda r: "".join(r.choices(_UNICODE_LETTERS, k=r.randint(2, 10)))),
    "mixed scripts": lambda size: _distinct(size, _mixed_script_word),
    "no spaces": lambda size: "".join(
        random.Random(size).choices(string.ascii_letters + string.digits + "._-", k=size)
    ),
    "nested encodings": lambda size: _distinct(size, _nested),
    "every trigger": lambda size: _distinct(size, _every_trigger),
    # one token of letters and digits, no separator at all
    "one long token": lambda size: "".join(random.Random(size).choices(string.ascii_letters + string.digits, k=size)),
    # every other character from another script (look-alikes, Greek, Cyrillic, Armenian)
    "alternating scripts": lambda size: _distinct(size, _alternating_word),
    # every letter under one to four combining marks (Zalgo text)
    "combining marks": lambda size: _distinct(size, _zalgo_word),
    # key words and made-up words with a format character (soft hyphen, zero-width, bidi) between letters
    "format characters": lambda size: _distinct(size, _formatted_word),
    "CRLF only": lambda size: "\r\n" * (size // 2),
    # a JSON string whose letters a and e are \\uXXXX escapes and whose line breaks are \\n, as a tool
    # output may carry text
    "JSON escapes": lambda size: _json_escaped(size),
}
SYNTHETIC = [
    "Always run the unit tests before committing and keep functions small.",
    "Use pathlib instead of os.path for file paths; never hard-code absolute paths.",
    "When the API returns 429, back off exponentially and retry at most three times.",
    "Prefer composition over inheritance in the service layer.",
    "Ignore generated files under build/ when searching the repository.",
]


def lessons(count: int, data: Path) -> list[str]:
    """``count`` lesson texts, cycling through the data file (or the synthetic set)."""
    if data.exists():
        texts = [json.loads(line)["text"] for line in data.read_text(encoding="utf-8").splitlines() if line.strip()]
    else:
        texts = SYNTHETIC
    return list(islice(cycle(texts), count))


def timed(label: str, texts: list[str], scan_one) -> float:
    """Run ``scan_one`` over every text; print and return the seconds taken."""
    started = time.perf_counter()
    flagged = 0
    for text in texts:
        flagged += bool(scan_one(text))
    seconds = time.perf_counter() - started
    print(
        f"{label:<10} {len(texts):>6} lessons  {seconds:6.3f} s  {len(texts) / seconds:>9,.0f} lessons/s  ({flagged} with findings)"
    )
    return seconds


#: A real benign document for the 1 MB line: the Python documentation's sources as Debian ships
#: them (python3-doc), else this repository's Markdown docs.
PYTHON_DOC_SOURCES = Path("/usr/share/doc/python3-doc/html/_sources")
REPO_DOCS = Path(__file__).resolve().parents[2] / "docs"


def benign_document(size: int) -> tuple[str, str]:
    """(name, text): ``size`` characters of real documentation, every part distinct when the
    python3-doc sources are installed (the tutorial, FAQ, how-tos, reference and library pages in
    that order); the repository's docs repeated to the size otherwise (a repeat may be cheaper)."""
    if PYTHON_DOC_SOURCES.is_dir():
        name, files = (
            "python3-doc",
            [
                f
                for part in ("tutorial", "faq", "howto", "reference", "library")
                for f in sorted((PYTHON_DOC_SOURCES / part).rglob("*.txt"))
            ],
        )
    else:
        name, files = "repo docs (repeated)", sorted(REPO_DOCS.glob("*.md"))
    parts: list[str] = []
    length = 0
    for path in cycle(files):
        parts.append(path.read_text(encoding="utf-8", errors="replace"))
        length += len(parts[-1]) + 1
        if length >= size:
            break
    return name, "\n".join(parts)[:size]


def _semantic_kernel():
    """A kernel with the semantic scanner and its embedder, or None when they are not installed."""
    try:
        import purpose_agent_immune_semantic
        import purpose_agent_minilm
    except ImportError:
        return None
    return make_kernel({"immune-semantic": purpose_agent_immune_semantic, "minilm": purpose_agent_minilm})


def adversarial(sizes: tuple[int, ...]) -> dict[str, float]:
    """The worst seconds per input size over :data:`ADVERSARIAL`, all five scanners together.

    The scanners are called directly: through the kernel a scan past ``[kernel] scan_timeout_s``
    is reported as a timeout and the stuck scanner skipped on the next texts, which hides its time.
    At 1 MB a real benign document is timed too (with how many findings it gets), and, when the
    semantic tier is installed, each input through it as well ("with semantic": the CPU seconds of
    all six scanners).
    """
    from purpose_agent_immune.detectors import Context

    semantic = _semantic_kernel()
    worst: dict[str, float] = {}
    for size in sizes:
        inputs = [(repr(piece[:14]), (piece * (size // len(piece) + 1))[:size]) for piece in ADVERSARIAL]
        inputs += [(name, make(size)) for name, make in GENERATED.items()]
        if size >= 1_000_000:
            inputs.append(benign_document(size))
        for name, text in inputs:
            started, cpu = time.perf_counter(), time.process_time()
            findings = 0
            for module in MODULES:
                findings += len(module.SCANNER.hits(text, Context()))
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            label = f"{size // 1000} KB" if size < 1_000_000 else f"{size // 1_000_000} MB"
            worst[label] = max(worst.get(label, 0.0), seconds)
            line = f"adversarial {label:>7} {name:<20} {seconds:6.3f} s  (cpu {cpu:.3f} s)"
            if size >= 1_000_000:
                line += f"  {findings} findings"
                if semantic is not None:
                    extra = time.process_time()
                    semantic.scan(ScanRequest(text=text, source="document"))
                    line += f"  with semantic: cpu {cpu + time.process_time() - extra:.3f} s"
            print(line)
    return worst


def _one_mb_inputs() -> list[tuple[str, str]]:
    size = 1_000_000
    inputs = [(repr(piece[:14]), (piece * (size // len(piece) + 1))[:size]) for piece in ADVERSARIAL]
    inputs += [(name, make(size)) for name, make in GENERATED.items()]
    inputs.append(benign_document(size))
    return inputs


def _warm_up() -> None:
    """The 10 KB and 100 KB inputs through all five scanners, as :func:`adversarial` runs them first."""
    from purpose_agent_immune.detectors import Context

    for size in (10_000, 100_000):
        texts = [(piece * (size // len(piece) + 1))[:size] for piece in ADVERSARIAL]
        texts += [make(size) for make in GENERATED.values()]
        for text in texts:
            for module in MODULES:
                module.SCANNER.hits(text, Context())


def _time_one(text: str) -> tuple[float, float, int]:
    """(wall s, CPU s, findings) of all five scanners on ``text``."""
    from purpose_agent_immune.detectors import Context

    started, cpu = time.perf_counter(), time.process_time()
    findings = sum(len(module.SCANNER.hits(text, Context())) for module in MODULES)
    return time.perf_counter() - started, time.process_time() - cpu, findings


def serve() -> None:
    """The ``--against`` worker: warm up, then time the 1 MB input named on each stdin line."""
    import sys

    inputs = dict(_one_mb_inputs())
    _warm_up()
    print("ready", flush=True)
    for line in sys.stdin:
        print(json.dumps(_time_one(inputs[json.loads(line)])), flush=True)


def long_only(against: Path | None) -> dict[str, float]:
    """The 1 MB inputs alone (after the warm-up), side by side with the scanners in ``against``."""
    import subprocess
    import sys

    inputs = _one_mb_inputs()
    worker = None
    if against is not None:
        environ = dict(os.environ, PYTHONPATH=os.pathsep.join([str(against), os.environ.get("PYTHONPATH", "")]))
        worker = subprocess.Popen(
            [sys.executable, __file__, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=environ
        )
        assert worker.stdin is not None and worker.stdout is not None
        if worker.stdout.readline().strip() != "ready":
            raise SystemExit("the --against worker did not start")
    _warm_up()

    def old(name: str) -> tuple[float, float, int]:
        assert worker is not None and worker.stdin is not None and worker.stdout is not None
        worker.stdin.write(json.dumps(name) + "\n")
        worker.stdin.flush()
        return tuple(json.loads(worker.stdout.readline()))  # type: ignore[return-value]

    worst = 0.0
    print(f"1 MB inputs, all five scanners, wall (CPU) seconds; load average {os.getloadavg()}")
    for number, (name, text) in enumerate(inputs):
        # each version scans each input once (a second scan of the same text would find the
        # caches warm), old first on even inputs and new first on odd ones
        if worker is None:
            wall, cpu, findings = _time_one(text)
            worst = max(worst, wall)
            print(f"{name:<22} {wall:6.3f} ({cpu:.3f})  {findings} findings")
            continue
        if number % 2 == 0:
            before = old(name)
            wall, cpu, findings = _time_one(text)
        else:
            wall, cpu, findings = _time_one(text)
            before = old(name)
        worst = max(worst, wall)
        print(
            f"{name:<22} old {before[0]:6.3f} ({before[1]:.3f})  new {wall:6.3f} ({cpu:.3f})"
            f"  findings old {before[2]} new {findings}"
        )
    print(f"load average after: {os.getloadavg()}")
    if worker is not None:
        worker.stdin.close()  # type: ignore[union-attr]
        worker.wait()
    return {"1 MB": worst}


def lessons_cpu(texts: list[str]) -> float:
    """CPU seconds of the five scanners' ``SCANNER.scan`` (called directly) over ``texts``, after one warm-up pass."""
    requests = [ScanRequest(text=t) for t in texts]

    def run() -> float:
        cpu = time.process_time()
        for request in requests:
            for module in MODULES:
                module.SCANNER.scan(request, None, None)
        return time.process_time() - cpu

    run()
    return run()


def lessons_against(count: int, data: Path, against: Path, rounds: int = 3) -> None:
    """Lessons per CPU-second here and with the scanners in ``against``: fresh processes, the two
    versions in turn, ``rounds`` each (the best of each printed)."""
    import subprocess
    import sys

    figures: dict[str, list[float]] = {"old": [], "new": []}
    for number in range(rounds):
        for version in ("old", "new")[:: 1 if number % 2 == 0 else -1]:
            environ = dict(os.environ)
            if version == "old":
                environ["PYTHONPATH"] = os.pathsep.join([str(against), os.environ.get("PYTHONPATH", "")])
            command = [sys.executable, __file__, "--lessons-cpu", "--lessons", str(count), "--data", str(data)]
            output = subprocess.run(command, env=environ, capture_output=True, text=True, check=True).stdout
            figures[version].append(float(output.split()[-1]))
    old, new = min(figures["old"]), min(figures["new"])
    print(
        f"lessons, one core, CPU, {count} per run, best of {rounds} fresh processes in turn: "
        f"old {count / old:,.0f} lessons/s, new {count / new:,.0f} lessons/s (new/old time {new / old:.3f}); "
        f"load average {os.getloadavg()}"
    )


def stages() -> None:
    """CPU seconds per stage of the 1 MB inputs (after the warm-up), where ``immune-injection``
    spends them: normalising, the rules (both threads' CPU when the pass is shared), mapping the
    rule hits' spans back, each detector function; then the other four scanners whole."""
    from purpose_agent_immune import detectors
    from purpose_agent_immune.detectors import Context, DecodeBudget

    _warm_up()
    scanner = injection.SCANNER
    print(f"stages of immune-injection, then the other scanners, CPU s (load average {os.getloadavg()})")
    for name, text in _one_mb_inputs():
        spent: dict[str, float] = {}

        def clock(label: str, started: float, spent: dict[str, float] = spent) -> None:
            spent[label] = time.process_time() - started

        started = time.process_time()
        view = detectors.normalized_view(text)
        clock("normalise", started)
        started = time.process_time()
        hits = detectors._rule_hits(scanner.loaded_rules(), view.text, "lesson", {})
        clock("rules", started)
        started = time.process_time()
        for hit in hits:
            view.span(hit.start, hit.end)
        clock("spans", started)
        context = Context("lesson", "global", text.lower(), view.text, DecodeBudget(scanner.decode_budget))
        for function in scanner.functions:
            started = time.process_time()
            list(function(text, context))
            clock(function.__name__.strip("_"), started)
        for module in MODULES[1:]:
            started = time.process_time()
            module.SCANNER.hits(text, Context())
            clock(module.__name__.rsplit(".", 1)[1], started)
        shown = ", ".join(f"{label} {seconds:.3f}" for label, seconds in spent.items() if seconds >= 0.01)
        print(f"{name:<22} {sum(spent.values()):.3f}: {shown}")


def quality(kernel, holdout: bool) -> dict[str, float]:
    """Attack recall and benign FPR on the eval data's tune split (and held-out fifth), FPR on benign lessons."""
    from purpose_agent_immune.evaluation import evaluate, load_rows, select

    figures: dict[str, float] = {}
    injection_file, lessons_file = EVAL_DIR / "injection_dev.jsonl", EVAL_DIR / "benign_lessons_dev.jsonl"
    if not injection_file.exists():
        print(f"quality: skipped ({injection_file} is absent)")
        return figures
    rows = load_rows(injection_file)
    for split in ("tune", "holdout") if holdout else ("tune",):
        report = evaluate(kernel, select(rows, split))
        figures[f"{split}_recall"] = round(report.attack_recall or 0.0, 4)
        figures[f"{split}_benign_fpr"] = round(report.benign_fpr or 0.0, 4)
        print(f"quality {split:<8} attack recall {report.attack_recall:.1%}  benign FPR {report.benign_fpr:.1%}")
    if lessons_file.exists():
        report = evaluate(kernel, load_rows(lessons_file))
        figures["lessons_fpr"] = round(report.benign_fpr or 0.0, 4)
        print(
            f"quality benign lessons FPR {report.benign_fpr:.2%} ({sum(r.flagged for r in report.families.values())} flagged)"
        )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", type=int, default=10_000)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--holdout", action="store_true", help="also report the held-out fifth of the eval data")
    parser.add_argument("--no-adversarial", action="store_true", help="skip the 10 KB / 100 KB / 1 MB inputs")
    parser.add_argument("--long-only", action="store_true", help="only the 1 MB inputs (after the warm-up)")
    parser.add_argument(
        "--against", type=Path, help="with --long-only: time the scanners imported from this directory too"
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--lessons-cpu", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--stages", action="store_true", help="CPU per stage of the 1 MB inputs")
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    if args.stages:
        stages()
        return
    if args.lessons_cpu:
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        print(f"cpu_seconds {lessons_cpu(lessons(args.lessons, args.data)):.6f}")
        return
    if args.long_only or args.against is not None:
        if args.against is not None:
            lessons_against(args.lessons, args.data, args.against)
        print(json.dumps({"adversarial_s": {k: round(v, 3) for k, v in long_only(args.against).items()}}))
        return
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    if cores is not None:
        os.sched_setaffinity(0, {min(cores)})  # one core for the lessons, as the target says
    texts = lessons(args.lessons, args.data)
    print(
        f"data: {args.data if args.data.exists() else 'synthetic'}; mean length {sum(map(len, texts)) / len(texts):.0f} chars"
    )

    kernel = make_kernel(*PLUGINS)
    assert sorted(kernel.scanners()) == sorted(IDS), kernel.scanners()
    kernel.scan(ScanRequest(text="warm-up"))
    requests = [ScanRequest(text=t) for t in texts]  # building requests is the caller's cost

    def direct(text: str) -> list:
        request = ScanRequest(text=text)
        return [f for module in MODULES for f in module.SCANNER.scan(request, None, None)]

    timed("direct", texts, direct)
    iterator = iter(requests)
    kernel_seconds = timed("kernel", texts, lambda _t: kernel.scan(next(iterator)))
    try:
        from purpose_agent.kernel import Kernel

        installed = Kernel.load(overrides={}, environ={"PURPOSE_AGENT_PLUGINS": ",".join(IDS)})
        if sorted(installed.scanners()) == sorted(IDS):
            iterator = iter(requests)
            timed("installed", texts, lambda _t: installed.scan(next(iterator)))
    except Exception as exc:  # the installed path is informative only
        print(f"installed: skipped ({type(exc).__name__}: {exc})")
    if cores is not None:
        os.sched_setaffinity(0, cores)  # the long inputs on every core the process may use
    worst = {} if args.no_adversarial else adversarial((10_000, 100_000, 1_000_000))
    figures = quality(kernel, args.holdout)
    print(
        json.dumps(
            {
                "lessons": len(texts),
                "seconds": round(kernel_seconds, 3),
                "lessons_per_s": round(len(texts) / kernel_seconds),
                "adversarial_s": {size: round(seconds, 3) for size, seconds in worst.items()},
                **figures,
            }
        )
    )


if __name__ == "__main__":
    main()
