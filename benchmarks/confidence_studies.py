"""Studies of the answer-confidence model's inputs, for train_confidence.py's docs section: how
well each signal alone tells answerable from unanswerable held-out questions, what the 0.90
off-corpus target would cost each model, what the models that read the question's form do to
the same questions asked as statements, and how they fare trained also on the groups that
break the dev sets' ties of index size, query form and data set (--confounds). Each study is
a paragraph and a table of docs/benchmarks.md (none when its signals were not collected).
"""

from __future__ import annotations

import json

import bench
import numpy as np
from confidence_data import ANSWER_TRIED, COLUMNS, CONFOUNDS, HELD_OUT, INPUTS, measured
from confidence_fit import probabilities, train

from qa.search.confidence import ConfidenceModel


def studies(model: ConfidenceModel, rows: list[dict]) -> list[str]:
    """Every study's paragraph and table, as lines of markdown."""
    lines: list[str] = []
    for (paragraph, head), table in (
        (SEPARATION, separation(model)),
        (TRADEOFF, tradeoff(rows)),
        (STATEMENTS, as_statements(rows)),
        (UNCONFOUNDED_TEXT, unconfounded(rows)),
    ):
        lines += ["", *paragraph, *bench.md_table(head, table)] if table else []
    return lines


def held_out() -> list[dict]:
    return [json.loads(line) for line in HELD_OUT.read_text().split("\n") if line]


AUC_PAIRS = (  # (answerable, not) held-out groups that the signals must tell apart
    ("held-squad1", "held-squad1-on-scifact", "SQuAD v1.1 vs its questions on SciFact"),
    ("held-scifact", "held-scifact-on-squad1", "SciFact vs its claims on SQuAD v1.1"),
    ("held-squad2", "held-squad2-unanswerable", "SQuAD v2.0 answerable vs unanswerable"),
)


def auc(good: np.ndarray, bad: np.ndarray) -> float:
    """The chance that an answerable question's value is above an unanswerable one's (ties: half)."""
    if not len(good) or not len(bad):
        return float("nan")
    above = (good[:, None] > bad[None, :]).mean() + 0.5 * (good[:, None] == bad[None, :]).mean()
    return float(above)


def separation(model: ConfidenceModel) -> list[list[str]]:
    """Each signal's AUC on AUC_PAIRS: over all of the pair's questions, and over only those the
    model answers (what a new input must still tell apart), as table rows."""
    rows = held_out()
    answered = probabilities(model, rows) >= model.refuse_below
    groups = np.array([r["group"] for r in rows])
    table: list[list[str]] = []
    for name in COLUMNS:
        if len(rows[0]["x"]) <= COLUMNS.index(name):
            continue
        values = np.array([measured(r).values[name] for r in rows])
        cells = [
            auc(values[(groups == good) & keep], values[(groups == bad) & keep])
            for keep in (np.ones(len(rows), bool), answered)
            for good, bad, _ in AUC_PAIRS
        ]
        table.append([f"`{name}`", *(f"{c:.2f}" for c in cells)])
    return table


def held_groups() -> tuple[list[dict], np.ndarray, np.ndarray, np.ndarray]:
    """The held-out rows, their groups, and masks of the SciFact claims and the hand-written
    paraphrases among them (what tradeoff and unconfounded both report on)."""
    held = held_out()
    groups = np.array([r["group"] for r in held])
    claims = np.isin(groups, ["held-scifact", "held-scifact-claims-rest"])
    return held, groups, claims, np.array(["paraphrase" in g for g in groups])


TRADED = ("held-scifact-on-squad1", "held-squad2-unanswerable", "held-squad1", "held-covid")


def tradeoff(rows: list[dict], target: float = 0.90) -> list[list[str]]:
    """What meeting the off-corpus target costs: each ALTERNATIVE with answer-step inputs (and the
    shipped inputs), its threshold moved to where it refuses `target` of SQuAD v1.1's held-out
    questions on SciFact (the hardest off-corpus group), and the other held-out rates there.
    The threshold is read off the held-out questions themselves, so this flatters every row."""
    held, groups, claims, written = held_groups()
    table: list[list[str]] = []
    for name, more in {"shipped": (), **ANSWER_TRIED}.items():
        model, _ = train(rows, (*INPUTS, *more))
        p = probabilities(model, held)
        cut = np.quantile(p[groups == "held-squad1-on-scifact"], target)
        off, unanswerable = (np.mean(p[groups == g] < cut) for g in TRADED[:2])
        squad, covid = (np.mean(p[groups == g] < cut) for g in TRADED[2:])
        cells = [off, unanswerable, np.mean(p[claims] < cut), squad, covid]
        refused = f"{int(np.sum(p[written] < cut))} of {written.sum()}"
        table.append([name, *(f"{c:.3f}" for c in cells), refused])
    return table


def as_statements(rows: list[dict]) -> list[list[str]]:
    """The models that read the question's form (`wh`), with answerable held-out questions asked
    as if they had no wh-word and no "?" (the same signals, `wh` = 0), as a keyword search or a
    statement would be: their share refused, as table rows."""
    held = held_out()
    at = COLUMNS.index("wh")
    flipped = [{**r, "x": [*r["x"][:at], 0.0, *r["x"][at + 1 :]]} for r in held]
    groups = np.array([r["group"] for r in held])
    table: list[list[str]] = []
    for name, more in ANSWER_TRIED.items():
        if "wh" not in more:
            continue
        model, _ = train(rows, (*INPUTS, *more))
        cells = []
        for asked in (held, flipped):
            refused = probabilities(model, asked) < model.refuse_below
            cells += [refused[groups == g].mean() for g in STATED]
        table.append([name, *(f"{c:.3f}" for c in cells)])
    return table


STATED = ("held-paraphrase-seeds", "held-paraphrase-squad1", "held-squad1", "held-covid")


def unconfounded(rows: list[dict]) -> list[list[str]]:
    """The shipped inputs and the form-reading ones, trained also on the --confounds groups: their
    held-out rates, as table rows (none before --confounds has run)."""
    if not CONFOUNDS.exists():
        return []
    extra = [json.loads(line) for line in CONFOUNDS.read_text().split("\n") if line]
    held, groups, claims, written = held_groups()
    table: list[list[str]] = []
    for name, more in {"shipped": (), **ANSWER_TRIED}.items():
        if "passages*wh" not in more and more:
            continue
        model, _ = train(rows + extra, (*INPUTS, *more))
        refused = probabilities(model, held) < model.refuse_below
        cells = [refused[groups == g].mean() for g in UNCONFOUNDED[:3]] + [refused[claims].mean()]
        cells += [refused[groups == g].mean() for g in UNCONFOUNDED[3:]]
        said = f"{int(refused[written].sum())} of {written.sum()}"
        table.append([name, f"{model.refuse_below:.3f}", *(f"{c:.3f}" for c in cells), said])
    return table


UNCONFOUNDED = (
    "held-scifact-on-squad1",
    "held-squad1-on-scifact",
    "held-squad2-unanswerable",
    "held-squad1",
    "held-squad1-in-mixed",
    "held-scifact-in-mixed",
)


SEPARATION = (  # (paragraph, table head)
    [
        "How well each signal alone tells the held-out answerable questions from the unanswerable",
        "ones (AUC: the chance that an answerable question's value is the higher; 0.50 is a coin):",
        "over all of each pair's questions, then over only those the shipped model answers (what",
        "a new input would have to tell apart). Answer-step signals from `wh` on.",
        "",
    ],
    [
        "signal",
        *(title for _, _, title in AUC_PAIRS),
        *(f"{title}, answered only" for _, _, title in AUC_PAIRS),
    ],
)
TRADEOFF = (
    [
        "What the off-corpus target would cost: each model's threshold moved to where it refuses",
        "0.90 of SQuAD v1.1's held-out questions on SciFact (read off those very questions, so",
        "every row is flattered); the other held-out groups' share refused there:",
        "",
    ],
    ["inputs (shipped +)", "SciFact on SQuAD v1.1", "SQuAD v2.0 unanswerable", "SciFact claims (wrongly)"]
    + ["SQuAD v1.1 (wrongly)", "COVID-QA (wrongly)", "paraphrases refused"],
)
STATEMENTS = (
    [
        "The models that read the question's form (`wh`), with answerable held-out questions as",
        'asked and as if asked without a wh-word or "?" (same signals, `wh` = 0: a keyword search',
        "or a statement); share refused. Every training question without one is a SciFact claim,",
        "and every claim asked of a small index is off-corpus, so `wh` learns the data set, not",
        "the question: a statement in a one-article folder is refused.",
        "",
    ],
    ["inputs (shipped +)", "seed paraphrases", "SQuAD paraphrases", "SQuAD v1.1", "COVID-QA"]
    + ["seed paraphrases, no wh", "SQuAD paraphrases, no wh", "SQuAD v1.1, no wh", "COVID-QA, no wh"],
)
UNCONFOUNDED_TEXT = (
    [
        "Trained also on the groups that break those ties (`--confounds`: SciFact claims asked of",
        "small indexes of their own abstracts, SQuAD questions asked of those, and both sets'",
        "training questions asked of the mixed index), the form-reading models lose their gain,",
        "and the shipped inputs refuse less off-corpus: part of today's off-corpus rate comes from",
        "the index's size telling the data set apart.",
        "",
    ],
    ["inputs (shipped +)", "refuse below", "SciFact on SQuAD v1.1", "SQuAD v1.1 on SciFact"]
    + ["SQuAD v2.0 unanswerable", "SciFact claims", "SQuAD v1.1", "SQuAD v1.1, mixed index"]
    + ["SciFact, mixed index", "paraphrases refused"],
)
