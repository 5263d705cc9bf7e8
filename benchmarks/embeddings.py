"""Static word embeddings against today's TF-IDF features for the sentence model, on dev.

    pip install wordllama          # not a dependency of essaymark: measured, not adopted
    python benchmarks/embeddings.py

The sentence model says which reasons a sentence is about and whether it explains. Its
features are TF-IDF n-grams, which a paraphrase can miss. WordLlama ships static token
embeddings (256 dimensions, 32,000 tokens, 16 MB) and its tokenizer inside its wheel, so
they work offline. Its own loader fetches the tokenizer from the Hugging Face hub even
so, so this reads the packaged files directly.

Units: the annotated sentences about a listed reason, from the corpus and the blind set's
dev split. For each dev writer, logistic regressions are trained on the corpus and the
other dev writers and predict that writer's units (the same split as `validity.py --lowo`).
Features: TF-IDF word 1-3-grams; the mean of the unit's token embeddings (unit length);
both side by side. F1 is pooled over the six held-out writers.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Sequence
from importlib import util
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus" / "stalin-main-reason"
BLIND = ROOT / "corpus" / "stalin-main-reason-blind"
NAMED = ("general_secretary", "trotsky_unpopularity", "faction_play", "lenin_link")
EXPLAINS = {"explain", "weigh", "explains", "weighs"}


class StaticEmbeddings:
    """WordLlama's packaged token embeddings, mean-pooled over a text's tokens."""

    def __init__(self) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        spec = util.find_spec("wordllama")
        if spec is None or spec.origin is None:
            raise SystemExit("needs wordllama: pip install wordllama")
        home = Path(spec.origin).parent
        started = time.perf_counter()
        weights = load_file(str(home / "weights" / "l2_supercat_256.safetensors"))
        self.vectors = weights["embedding.weight"].astype(np.float32)
        config = home / "tokenizers" / "l2_supercat_tokenizer_config.json"
        self.tokenizer = Tokenizer.from_file(str(config))
        self.load_seconds = time.perf_counter() - started

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.vectors.shape[1]), np.float32)
        for i, encoding in enumerate(self.tokenizer.encode_batch(list(texts))):
            ids = [t for t in encoding.ids if t > 2]  # not the special tokens
            if ids:
                v = self.vectors[ids].mean(axis=0)
                out[i] = v / (np.linalg.norm(v) or 1.0)
        return out


def units(folder: Path, files: set[str] | None = None) -> list[tuple[str, str, set[str], bool]]:
    """(file, text, reasons, explains) for each annotated unit about a listed reason."""
    texts: dict[str, str] = {}
    found: dict[tuple[str, int, int], tuple[set[str], list[bool]]] = {}
    with (folder / "sentences.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if files is not None and row["file"] not in files:
                continue
            if row["file"] not in texts:
                texts[row["file"]] = (folder / row["file"]).read_text(encoding="utf-8")
            key = (row["file"], int(row["start"]), int(row["end"]))
            reasons, explains = found.setdefault(key, (set(), [False]))
            if row["factor"] and not row["factor"].startswith("other:"):
                reasons.add(row["factor"])
            explains[0] = explains[0] or row["role"] in EXPLAINS
    return [
        (file, texts[file][a:b], reasons, explains[0])
        for (file, a, b), (reasons, explains) in found.items()
        if reasons
    ]


def main() -> None:
    embeddings = StaticEmbeddings()
    with (BLIND / "marks.csv").open(encoding="utf-8", newline="") as f:
        writer_of = {r["file"]: r["writer"] for r in csv.DictReader(f) if r["split"] == "dev"}
    corpus, dev = units(CORPUS), units(BLIND, set(writer_of))
    targets = ("explains", *NAMED)
    truth: dict[str, list[bool]] = {t: [] for t in targets}
    said: dict[str, dict[str, list[bool]]] = {
        m: {t: [] for t in targets} for m in ("tf-idf", "embeddings", "both")
    }
    for writer in sorted(set(writer_of.values())):
        train = corpus + [u for u in dev if writer_of[u[0]] != writer]
        test = [u for u in dev if writer_of[u[0]] == writer]
        tfidf = TfidfVectorizer(ngram_range=(1, 3), sublinear_tf=True).fit([u[1] for u in train])
        views: dict[str, tuple[Any, Any]] = {
            "tf-idf": (
                tfidf.transform([u[1] for u in train]),
                tfidf.transform([u[1] for u in test]),
            ),
            "embeddings": (
                embeddings.embed([u[1] for u in train]),
                embeddings.embed([u[1] for u in test]),
            ),
        }
        views["both"] = tuple(  # type: ignore[assignment]
            sparse.hstack([views["tf-idf"][i], sparse.csr_matrix(views["embeddings"][i])]).tocsr()
            for i in (0, 1)
        )
        for target in targets:

            def label(u: tuple[str, str, set[str], bool], t: str = target) -> bool:
                return u[3] if t == "explains" else t in u[2]

            truth[target] += [label(u) for u in test]
            for view, (x_train, x_test) in views.items():
                model = LogisticRegression(C=2.0, max_iter=3000, class_weight="balanced")
                model.fit(x_train, [label(u) for u in train])
                said[view][target] += list(model.predict(x_test))
    print(f"{len(corpus)} corpus units, {len(dev)} dev units; F1 pooled over held-out writers")
    print(f"  {'features':12}" + "".join(f"{t[:20]:>22}" for t in targets))
    for view, by_target in said.items():
        cells = "".join(f"{f1_score(truth[t], by_target[t]):>22.3f}" for t in targets)
        print(f"  {view:12}{cells}")
    started = time.perf_counter()
    embeddings.embed([u[1] for u in dev])
    took = time.perf_counter() - started
    print(
        f"loading the embeddings: {embeddings.load_seconds:.2f} s; "
        f"embedding {len(dev)} units: {took:.2f} s"
    )


if __name__ == "__main__":
    main()
