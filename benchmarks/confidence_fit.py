"""The answer-confidence model's fit: a logistic regression on standardised inputs by Newton's
method with a small L2 penalty, every (set, label) group weighted equally, and the refusal
threshold that wrongly refuses at most REFUSE_AT_MOST of every answerable group; with the
share refused and marked low per group (used by train_confidence.py and confidence_studies.py).
A helper; NumPy only, deterministic.
"""

from __future__ import annotations

import json

import numpy as np
from confidence_data import HELD_OUT, INPUTS, REFUSE_AT_MOST, measured

from qa.search.confidence import ConfidenceModel, model_inputs

LOW_BELOW = 0.5
L2 = 1.0


def fit(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, float]:
    """Weighted L2 logistic regression by Newton's method (a few exact steps; deterministic)."""
    a = np.hstack([x, np.ones((len(x), 1))])
    beta = np.zeros(a.shape[1])
    penalty = np.diag([L2] * x.shape[1] + [0.0])
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(a @ beta, -30, 30)))
        grad = a.T @ (w * (p - y)) + penalty @ beta
        hess = (a * (w * p * (1 - p))[:, None]).T @ a + penalty
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-9:
            break
    return beta[:-1], float(beta[-1])



def probabilities(model: ConfidenceModel, rows: list[dict]) -> np.ndarray:
    return np.array([model.probability(measured(r)) for r in rows])


def rates_of(model: ConfidenceModel, rows: list[dict]) -> dict[str, dict[str, float]]:
    """Per group: how many questions, the share refused and the share answered marked low."""
    p, groups = probabilities(model, rows), np.array([r["group"] for r in rows])
    rates = {}
    for g in sorted(set(groups)):
        mine = p[groups == g]
        refused, low = mine < model.refuse_below, mine < model.low_below
        rates[g] = {"n": len(mine), "refused": float(refused.mean()), "low": float((low & ~refused).mean())}
    return rates


def train(rows: list[dict], inputs: tuple[str, ...] = INPUTS) -> tuple[ConfidenceModel, dict]:
    found = [measured(r) for r in rows]
    x = np.array([model_inputs(f, inputs) for f in found], dtype=np.float64)
    y = np.array([r["label"] for r in rows], dtype=np.float64)
    groups = [r["group"] for r in rows]
    sizes = {g: groups.count(g) for g in set(groups)}
    w = np.array([len(rows) / (len(sizes) * sizes[g]) for g in groups])
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    weights, bias = fit((x - mean) / scale, y, w)
    p = 1 / (1 + np.exp(-np.clip(((x - mean) / scale) @ weights + bias, -30, 30)))
    answerable = {g for g in sizes if all(r["label"] == 1 for r in rows if r["group"] == g)}
    refuse = min(np.quantile(p[[g == grp for g in groups]], REFUSE_AT_MOST) for grp in answerable)
    model = ConfidenceModel(
        inputs, tuple(mean), tuple(scale), tuple(weights), bias, float(refuse), LOW_BELOW
    )
    return model, rates_of(model, rows)


def held_out_rates(model: ConfidenceModel) -> dict[str, dict[str, float]]:
    """The rates on the benchmarks' own questions (collected by --held-out), with all of
    SciFact's claims and all paraphrases also as one group each, as news_checks.py reports them."""
    if not HELD_OUT.exists():
        return {}
    rows = [json.loads(line) for line in HELD_OUT.read_text().split("\n") if line]
    claims = ("held-scifact", "held-scifact-claims-rest")
    rows += [{**r, "group": "all SciFact claims"} for r in rows if r["group"] in claims]
    rows += [{**r, "group": "all paraphrases"} for r in rows if "paraphrase" in r["group"]]
    return rates_of(model, rows)

