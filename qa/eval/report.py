"""Show an evaluation: a readable table, question-by-question changes, and the k-curve plot.

Nothing here scores anything (see metrics.py and evaluate.py); it only renders reports
and compares two runs' rows. matplotlib is imported only when a plot is drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from qa.errors import MissingDependencyError
from qa.terminal import one_line

from .evaluate import CUTOFFS, RANK_DEPTH, EvalReport, Row

# (heading, which count says how many questions a section covers, (metric key, label) ...)
SECTIONS: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    (
        "retrieval, article level",
        "with_articles",
        (*((f"hit@{k}", f"Hit@{k}") for k in CUTOFFS), ("mrr@10", "MRR@10"), ("ndcg@10", "nDCG@10")),
    ),
    (
        "answers",
        "with_answers",
        (
            *((f"answer_recall@{k}", f"AnswerRecall@{k}") for k in CUTOFFS),
            ("answer_accuracy", "answer accuracy (cited sentences)"),
            ("lead_accuracy", "first sentence of top passage"),
        ),
    ),
    (
        "abstention",
        "unanswerable",
        (
            ("abstention", "abstained, unanswerable"),
            ("flagged", "abstained or low confidence, unanswerable"),
            ("false_abstention", "abstained, answerable"),
            ("low_confidence", "low confidence, answerable"),
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class Change:
    """One question that got better or worse between two runs."""

    id: str
    question: str
    before: str
    after: str
    better: bool


def format_report(report: EvalReport) -> str:
    """The summary table `qa eval` prints."""
    c, ix, opt = report.counts, report.index, report.options
    asked = f"{report.questions} question{'' if report.questions == 1 else 's'}"
    lines = [
        f"{asked} ({c['answerable']} answerable, {c['unanswerable']} unanswerable); "
        f"fusion {opt.get('fusion')}, k={opt.get('k')}",
        f"index {ix.get('path')} ({ix.get('articles')} articles, {ix.get('passages')} passages, "
        f"backend {ix.get('backend', '?')}, manifest {ix.get('manifest_sha256')})",
    ]
    width = 2 + max(len(label) for _, _, rows in SECTIONS for _, label in rows)  # longest label + a gap
    for title, count, rows in SECTIONS:
        lines += ["", f"{title} (n={c.get(count, 0)})"]
        lines += [f"  {label:<{width}}{show(report.metrics.get(key))}" for key, label in rows]
    p50, p95 = report.metrics.get("latency_p50_ms"), report.metrics.get("latency_p95_ms")
    lines += ["", f"latency per question: p50 {show(p50, 'ms')}, p95 {show(p95, 'ms')}"]
    return "\n".join(lines)


def show(value: float | None, unit: str = "") -> str:
    """A metric for a table: 3 decimals, milliseconds as whole numbers, '-' when not applicable."""
    if value is None:
        return "-"
    return f"{value:.0f} ms" if unit == "ms" else f"{value:.3f}"


def outcome(row: Row) -> tuple[tuple[float, ...], str]:
    """A comparable grade of one question's result (higher is better) and its description."""
    if row["gold"]["unanswerable"]:
        return (float(row["abstained"]),), "abstained" if row["abstained"] else "answered"
    key: list[float] = []
    words: list[str] = []
    if row.get("correct") is not None:
        verdict = "correct" if row["correct"] else "abstained" if row["abstained"] else "wrong"
        rank = row["answer_rank"]
        key += [float(row["correct"]), -float(rank or RANK_DEPTH + 1)]
        words += [verdict, f"answer in passage {rank}" if rank else "answer not retrieved"]
    if row["gold"]["article_ids"]:
        rank = row["article_rank"]
        key += [-float(rank or RANK_DEPTH + 1), float(row.get("ndcg@10") or 0.0)]
        words.append(f"article at rank {rank}" if rank else "article not retrieved")
    return tuple(key), ", ".join(words) or ("abstained" if row["abstained"] else "answered")


def compare(old: Sequence[Row], new: Sequence[Row]) -> list[Change]:
    """Questions (matched by id) whose outcome changed; worse ones first."""
    before = {row["id"]: row for row in old}
    changes = []
    for row in new:
        if row["id"] not in before:
            continue
        (was, said), (now, says) = outcome(before[row["id"]]), outcome(row)
        if was != now:
            changes.append(Change(row["id"], row["question"], said, says, now > was))
    return sorted(changes, key=lambda ch: (ch.better, ch.id))


def format_changes(changes: Sequence[Change], old: EvalReport, new: EvalReport) -> str:
    """Metric deltas, then every question that got worse or better."""
    lines = [f"compared with {old.questions} earlier answers:"]
    for key, value in new.metrics.items():
        was = old.metrics.get(key)
        if value is not None and was is not None and round(value - was, 4) != 0:
            lines.append(f"  {key:<22}{was:>9.3f} -> {value:.3f} ({value - was:+.3f})")
    worse = [ch for ch in changes if not ch.better]
    for title, group in (("worse", worse), ("better", [ch for ch in changes if ch.better])):
        lines.append(f"{len(group)} {title}:")
        lines += [
            f"  {one_line(ch.id)}: {one_line(ch.question)}\n      {ch.before} -> {ch.after}" for ch in group
        ]
    return "\n".join(lines)


def plot_curves(series: Mapping[str, EvalReport], path: Path | str, title: str = "") -> Path:
    """AnswerRecall@k and Hit@k for k = 1..20, one line per labelled run, saved as a PNG."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display: the plot only goes to a file
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingDependencyError("plots need matplotlib; run `pip install matplotlib`") from None
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, (key, label) in zip(axes, (("answer_recall", "AnswerRecall@k"), ("hit", "article Hit@k"))):
        for name, report in series.items():
            points = [(k, v) for k, v in enumerate(report.curves[key], start=1) if v is not None]
            if points:
                ax.plot(*zip(*points), marker=".", label=name)
        ax.set(title=label, xlabel="k", ylim=(0, 1.02), xticks=range(0, 21, 5))
        ax.grid(alpha=0.3)
    axes[0].legend(loc="lower right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
