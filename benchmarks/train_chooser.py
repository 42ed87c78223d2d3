"""Train the sentence chooser and the answer-span model; write qa/models/chooser.json. A script.

    .venv/bin/python benchmarks/train_chooser.py            # report held-out figures only
    .venv/bin/python benchmarks/train_chooser.py --write    # ... and ship the weights

Data: SQuAD v1.1 dev and COVID-QA dev, converted and indexed under benchmarks/out/<set>/
(benchmarks/public_sets.py does that, or copy the built folders). Each set's articles are
shuffled with a fixed seed and split: the models are trained on the questions of the
training articles only, and every figure printed (and the shipped model's `qa eval` runs
in docs/benchmarks.md) is on articles the model never saw.

Sentence model: linear scores over qa/search/choose.py's features, trained listwise (a softmax
over one question's candidate sentences; loss: minus the log of the probability given to
the sentences holding a gold answer), L2-regularised, full-batch Adam. Span model:
logistic regression over qa/search/span.py's features of the phrases in the chosen sentence
(label: the phrase shares a word with a gold answer); its threshold is the lowest score
whose precision on the training questions reaches --precision. NumPy only; deterministic.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from typing import Any

import bench
import numpy as np

bench.on_path()
from chooser_data import Example, load_set, split_articles  # noqa: E402

from qa.eval.metrics import token_f1  # noqa: E402
from qa.search.answer_type import QuestionView, expected_kind  # noqa: E402
from qa.search.choose import MODEL_FILE, SENTENCE_FEATURES, Candidate, score  # noqa: E402
from qa.search.span import SPAN_FEATURES, phrase_candidates, phrase_features, probabilities  # noqa: E402

OUT = bench.OUT
log = logging.getLogger("chooser")


def standardise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scale = x.std(axis=0)
    return x.mean(axis=0), np.where(scale > 1e-9, scale, 1.0)


def adam(grad: Any, w: np.ndarray, steps: int = 400, lr: float = 0.05) -> np.ndarray:
    """Full-batch Adam: deterministic, no step size to tune per set."""
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t in range(1, steps + 1):
        g = grad(w)
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        w = w - lr * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    return w


def fit_sentences(train: list[Example], l2: float) -> dict[str, Any]:
    """Listwise softmax over each question's candidates (questions with a gold sentence only)."""
    used = [e for e in train if any(e.labels)]
    per_set = {name: sum(e.set_name == name for e in used) for name in {e.set_name for e in used}}
    # Each set weighs the same in total: SQuAD's 5,000 questions would otherwise drown COVID-QA's 600.
    weight = np.array([len(used) / (len(per_set) * per_set[e.set_name]) for e in used])
    x = np.array([c.features for e in used for c in e.candidates])
    y = np.array([label for e in used for label in e.labels], dtype=float)
    sizes = [len(e.candidates) for e in used]
    starts = np.cumsum([0, *sizes[:-1]])
    group = np.repeat(np.arange(len(used)), sizes)
    mean, scale = standardise(x)
    z = (x - mean) / scale

    def grad(w: np.ndarray) -> np.ndarray:
        logits = z @ w
        e = np.exp(logits - np.maximum.reduceat(logits, starts)[group])
        p = e / np.add.reduceat(e, starts)[group]
        q = p * y / np.add.reduceat(p * y, starts)[group]
        return z.T @ ((p - q) * weight[group]) / len(used) + 2 * l2 * w

    w = adam(grad, np.zeros(z.shape[1]))
    return {
        "features": list(SENTENCE_FEATURES),
        "mean": mean.tolist(),
        "scale": scale.tolist(),
        "weights": w.tolist(),
    }


def ranked(e: Example, model: dict[str, Any]) -> list[Candidate]:
    return score(e.candidates, {"sentence": model})


def holds(e: Example, c: Candidate) -> bool:
    """Does this (scored) candidate hold a gold answer: its label, found by its evidence."""
    return dict(zip((x.evidence for x in e.candidates), e.labels, strict=True))[c.evidence]


def sentence_report(test: list[Example], model: dict[str, Any], bars: tuple[float, ...]) -> dict[str, Any]:
    """Share of questions whose quoted sentence(s) hold a gold answer, by second-sentence bar."""
    out: dict[str, Any] = {"questions": len(test), "oracle": mean(any(e.labels) for e in test)}
    firsts = [(e, ranked(e, model)) for e in test]
    out["first"] = mean(bool(r) and holds(e, r[0]) for e, r in firsts)
    out["before"] = before(test)
    for bar in bars:
        two = [(e, r[:1] + [c for c in r[1:2] if c.probability >= bar]) for e, r in firsts]
        out[f"second>={bar}"] = {
            "holds": mean(any(holds(e, c) for c in chosen) for e, chosen in two),
            "two_quoted": mean(len(chosen) == 2 for _, chosen in two),
        }
    return out


def before(test: list[Example]) -> dict[str, float]:
    """The rule this model replaces: best evidence score plus 0.2 of its passage's score, and a
    second sentence scoring at least 0.9 of the first."""
    firsts, twos, shares = [], [], []
    for e in test:
        top = max((h.score for h in e.hits), default=0.0) or 1.0
        scores = [c.evidence.score + 0.2 * e.hits[c.evidence.hit].score / top for c in e.candidates]
        order = sorted(range(len(scores)), key=lambda i: -scores[i])[:2]
        chosen = order[:1] + [i for i in order[1:] if scores[i] >= 0.9 * scores[order[0]]]
        firsts.append(bool(order) and e.labels[order[0]])
        twos.append(any(e.labels[i] for i in chosen))
        shares.append(len(chosen) == 2)
    return {"first": mean(firsts), "holds": mean(twos), "two_quoted": mean(shares)}


def mean(values: Any) -> float:
    kept = [float(v) for v in values]
    return round(sum(kept) / len(kept), 4) if kept else 0.0


def span_rows(
    found: list[Example], model: dict[str, Any]
) -> list[tuple[Example, str, np.ndarray, list[float]]]:
    """For each question: the chosen sentence, its phrases' features and their labels."""
    rows = []
    for e in found:
        top = ranked(e, model)
        if not top:
            continue
        view = QuestionView.of(e.question.question, expected_kind(e.question.question))
        phrases = phrase_candidates(view, top[0].text)
        if phrases:
            x = phrase_features(view, top[0].text, phrases, top[0].probability)
            golds = e.question.answers
            f1 = [max(token_f1(top[0].text[p.start : p.end], g) for g in golds) for p in phrases]
            rows.append((e, top[0].text, x, f1))
    return rows


def fit_span(
    rows: list[tuple[Example, str, np.ndarray, list[float]]], l2: float, precision: float
) -> dict[str, Any]:
    """Logistic regression on phrase features; threshold: lowest best-phrase score reaching `precision`."""
    x = np.vstack([r[2] for r in rows])
    y = np.array([f > 0 for r in rows for f in r[3]], dtype=float)
    mean_, scale = standardise(x)
    z = np.hstack([(x - mean_) / scale, np.ones((len(x), 1))])

    def grad(w: np.ndarray) -> np.ndarray:
        p = 1 / (1 + np.exp(-(z @ w)))
        return z.T @ (p - y) / len(y) + 2 * l2 * np.r_[w[:-1], 0.0]

    w = adam(grad, np.zeros(z.shape[1]))
    model = {"features": list(SPAN_FEATURES), "mean": mean_.tolist(), "scale": scale.tolist(),
             "weights": w[:-1].tolist(), "bias": float(w[-1]), "threshold": 1.0}  # fmt: skip
    best = sorted((max_pick(r, model) for r in rows), key=lambda pair: -pair[0])
    hits = np.cumsum([f > 0 for _, f in best])
    ok = [p for i, (p, _) in enumerate(best) if hits[i] / (i + 1) >= precision and i >= 20]
    model["threshold"] = float(min(ok)) if ok else 1.0
    return model


def max_pick(row: tuple[Example, str, np.ndarray, list[float]], model: dict[str, Any]) -> tuple[float, float]:
    """The best phrase's probability and its F1 against the gold answers."""
    p = probabilities(row[2], model)
    i = int(np.argmax(p))
    return float(p[i]), row[3][i]


def span_report(found: list[Example], rows: list[Any], model: dict[str, Any]) -> dict[str, Any]:
    """Span given, precision (given and sharing a word with gold), EM and F1 over all questions."""
    given = [
        (p, f, r[0], r[1], r[2]) for r in rows for p, f in [max_pick(r, model)] if p >= model["threshold"]
    ]
    exact = [f == 1.0 for _, f, *_ in given]
    n = len(found)
    return {
        "questions": n,
        "given": round(len(given) / n, 4),
        "precision": mean(f > 0 for _, f, *_ in given),
        "precision_f1>=0.5": mean(f >= 0.5 for _, f, *_ in given),
        "em_given": mean(exact),
        "f1_given": mean(f for _, f, *_ in given),
        "em_all": round(sum(exact) / n, 4),
        "f1_all": round(sum(f for _, f, *_ in given) / n, 4),
    }


def rounded(value: Any) -> Any:
    """Floats to 10 decimals: sums over 400,000 rows differ in their last bits from run to run
    (the order BLAS adds them in), and the shipped file must come out byte for byte the same."""
    if isinstance(value, float):
        return round(value, 10)
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    return value


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sets", nargs="+", default=["squad1", "covid"])
    parser.add_argument(
        "--held-out", type=float, default=0.3, help="share of each set's articles kept for testing"
    )
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--l2", type=float, default=1e-3)
    parser.add_argument("--precision", type=float, default=0.85, help="span precision the threshold aims at")
    parser.add_argument("--second", type=float, default=0.15, help="probability a second sentence needs")
    parser.add_argument("--cached", action="store_true", help="use only the retrieval already cached")
    parser.add_argument("--write", action="store_true", help=f"write {MODEL_FILE.name} into qa/models/")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    started = time.perf_counter()
    train, test = [], {}
    for name in args.sets:
        found = load_set(OUT / name, name, engine_for_missing=not args.cached)
        keep, held = split_articles(found, args.held_out, args.seed)
        train += [e for e in found if e.article in keep]
        test[name] = [e for e in found if e.article in held]
        log.info("%s: %d questions; %d articles held out", name, len(found), len(held))
    sentence = fit_sentences(train, args.l2)
    sentence["second"] = args.second
    rows = span_rows(train, sentence)
    span = fit_span(rows, args.l2, args.precision)
    bars = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 1.01)
    report = {name: sentence_report(found, sentence, bars) for name, found in test.items()}
    for name, found in test.items():
        report[name]["span"] = span_report(found, span_rows(found, sentence), span)
    print(json.dumps(report, indent=1))
    weights = dict(zip(SENTENCE_FEATURES, np.round(sentence["weights"], 3).tolist(), strict=True))
    log.info("sentence weights (standardised features): %s", weights)
    if args.write:
        held = {name: sorted({e.article for e in found}) for name, found in test.items()}
        trained = {"sets": args.sets, "seed": args.seed, "held_out": args.held_out, "l2": args.l2,
                   "questions": len(train), "held_out_articles": held, "report": report}  # fmt: skip
        model = rounded({"version": 1, "sentence": sentence, "span": span, "trained": trained})
        MODEL_FILE.parent.mkdir(exist_ok=True)
        MODEL_FILE.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
        log.info("wrote %s in %.0fs", MODEL_FILE, time.perf_counter() - started)


if __name__ == "__main__":
    main()
