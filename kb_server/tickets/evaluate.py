"""``kb tickets eval``: how well request classes are suggested, on a labelled JSONL file.

Each line is ``{"text": ..., "label": CLASS, "language": "en"|"ru"|"uk"}``. The report has the
accuracy, the recall of every class (``per_class``), ``outage_recall`` on its own (a missed
outage is the costliest mistake) and the confusion matrix (``confusion[label][suggested]``).

A folder of labelled files (the bundled ``labelled/``) is measured set by set, each set classed
without its own requests among the examples (``report_by_set``, ``sets`` key): every set is
unseen data for the classifier that measures it.

``leave_one_out`` chooses the embedder method (``TICKET_CLASSIFIER``) and the outage margin
(``TICKET_OUTAGE_MARGIN``) without tuning to one language or one labelled set: every language
(set) is classed without its own examples, and for each the candidate with the lowest cost on
the others is measured on it (how well choosing so does on data it has not seen); the setting to
use is the candidate with the lowest cost on all of them (``chosen``). The
cost is cost-sensitive: a missed outage costs ``OUTAGE_MISS_COST`` errors, any other mistake (a
false alarm included) one.
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Callable, Iterable


class EvalError(ValueError):
    """The labelled file is missing or malformed (the message says where)."""


LABELLED = Path(__file__).with_name("labelled")   # the bundled labelled requests (README there)


def load_examples(value: str | Path) -> list[dict]:
    """``TICKET_EXAMPLES``: the labelled requests of a JSONL file or of a folder's ``*.jsonl``
    files; none for ``none``."""
    if str(value).strip().lower() == "none":
        return []
    path = Path(value)
    if not path.is_dir():
        return load_requests(path)
    files = sorted(path.glob("*.jsonl"))
    if not files:
        raise EvalError(f"{path}: no *.jsonl files")
    return [{**row, "set": file.stem} for file in files for row in load_requests(file)]


def load_requests(path: str | Path) -> list[dict]:
    """The labelled requests of a JSONL file (``text`` and ``label`` required)."""
    rows = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise EvalError(f"{path}: {exc.strerror or exc}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalError(f"{path}:{number}: not JSON: {exc.msg}") from None
        if not isinstance(row, dict) or not isinstance(row.get("text"), str) \
                or not isinstance(row.get("label"), str):
            raise EvalError(f"{path}:{number}: needs a string 'text' and 'label'")
        rows.append(row)
    if not rows:
        raise EvalError(f"{path}: no labelled requests")
    return rows


def report(rows: Iterable[dict], suggest: Callable[[str], str]) -> dict:
    """Accuracy, per-class recall and confusion of ``suggest`` (text -> class) on ``rows``."""
    return report_pairs((row, suggest(row["text"])) for row in rows)


def report_by_set(rows: list[dict], suggest_without: Callable[[set[str]], Callable[[str], str]]) -> dict:
    """The ``report`` of rows from several labelled sets (``set`` key), each set's requests
    suggested by ``suggest_without(its texts)`` (a classifier that never learnt them), with
    each set's own numbers under ``sets``."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups[row.get("set", "")].append(row)
    pairs, sets = [], {}
    for name, group in groups.items():
        suggest = suggest_without({row["text"] for row in group})
        own = [(row, suggest(row["text"])) for row in group]
        pairs += own
        result = report_pairs(own)
        sets[name] = {key: result[key] for key in ("requests", "accuracy", "outage_recall")}
    return {**report_pairs(pairs), "sets": sets}


def report_pairs(pairs: Iterable[tuple[dict, str]]) -> dict:
    """The report of (labelled row, suggested class) pairs."""
    confusion: dict[str, Counter] = defaultdict(Counter)
    by_language: dict[str, Counter] = defaultdict(Counter)
    errors = []
    for row, suggested in pairs:
        confusion[row["label"]][suggested] += 1
        language = row.get("language", "")
        by_language[language]["total"] += 1
        if suggested == row["label"]:
            by_language[language]["correct"] += 1
        else:
            errors.append({"text": row["text"], "label": row["label"], "suggested": suggested})
    total = sum(sum(c.values()) for c in confusion.values())
    correct = sum(c[label] for label, c in confusion.items())
    per_class = {label: round(c[label] / sum(c.values()), 4) for label, c in sorted(confusion.items())}
    return {
        "requests": total,
        "accuracy": round(correct / total, 4) if total else 0.0,
        "outage_recall": per_class.get("outage"),
        "per_class": per_class,
        "per_language": {lang: round(c["correct"] / c["total"], 4)
                         for lang, c in sorted(by_language.items())},
        "confusion": {label: dict(c) for label, c in sorted(confusion.items())},
        "errors": errors,
    }


CANDIDATES = (("centroid", 0.0), ("centroid", 0.005), ("centroid", 0.01), ("centroid", 0.02),
              ("knn:5", 0.0), ("knn:5", 0.1), ("knn:5", 0.2),
              ("logreg:10", 0.0), ("logreg:10", 0.05), ("logreg:10", 0.1), ("logreg:10", 0.15),
              ("logreg:10", 0.2), ("logreg:10", 0.3), ("logreg:100", 0.0), ("logreg:100", 0.05),
              ("logreg:100", 0.1), ("logreg:100", 0.15), ("logreg:100", 0.2), ("logreg:100", 0.3))

# A missed outage costs as much as this many other mistakes: everybody waits for a P1 line 1
# did not raise, while a false alarm costs an agent a few minutes to reclass.
OUTAGE_MISS_COST = 5


def cost(result: dict, miss_cost: float = OUTAGE_MISS_COST) -> float:
    """The mistakes of a ``report``, a missed outage counting ``miss_cost``."""
    outages = result["confusion"].get("outage", {})
    missed = sum(outages.values()) - outages.get("outage", 0)
    return len(result["errors"]) + (miss_cost - 1) * missed


def candidate_name(candidate: tuple[str, float]) -> str:
    return f"{candidate[0]} margin {candidate[1]:g}"


def leave_one_out(rows: list[dict],
                  suggest_with: Callable[[tuple[str, float], str], Callable[[str], str]],
                  candidates: Iterable[tuple[str, float]] = CANDIDATES,
                  miss_cost: float = OUTAGE_MISS_COST, by: str = "language") -> dict:
    """Per held-out group of rows (their ``by`` key: a language, or a labelled ``set``): the
    (method, outage margin) chosen on the other groups (lowest ``cost`` with a missed outage at
    ``miss_cost``, then the earlier candidate) and its numbers on the held-out one.
    ``suggest_with(candidate, group)`` is a text -> class function using that method and margin
    and none of ``group``'s examples, so every group is measured as unseen."""
    candidates = list(candidates)
    languages = sorted({row.get(by, "") for row in rows})
    reports = {c: {lang: report([r for r in rows if r.get(by, "") == lang], suggest_with(c, lang))
                   for lang in languages} for c in candidates}

    def cost_without(candidate, held_out: str | None) -> float:
        return sum(cost(reports[candidate][lang], miss_cost) for lang in languages if lang != held_out)

    result = {}     # per language: the choice validated; overall "chosen": the one for every language
    for held_out in languages:
        chosen = min(candidates, key=lambda c: (cost_without(c, held_out), candidates.index(c)))
        held = reports[chosen][held_out]
        result[held_out] = {"method": chosen[0], "outage_margin": chosen[1],
                            "accuracy": held["accuracy"], "outage_recall": held["outage_recall"]}
    total = sum(reports[candidates[0]][lang]["requests"] for lang in languages)
    result["overall"] = {
        "accuracy": round(sum(result[lang]["accuracy"] * reports[candidates[0]][lang]["requests"]
                              for lang in languages) / total, 4),
        "outage_recall": min((result[lang]["outage_recall"] for lang in languages
                              if result[lang]["outage_recall"] is not None), default=None),
        "outage_miss_cost": miss_cost, "by": by,
        "chosen": candidate_name(min(candidates, key=lambda c: (cost_without(c, None), candidates.index(c)))),
        "by_method": {candidate_name(c): {lang: [reports[c][lang]["accuracy"], reports[c][lang]["outage_recall"]]
                                          for lang in languages} for c in candidates},
    }
    return result


def format_report(result: dict) -> str:
    """The report as text: the numbers, then the confusion matrix (rows: labels)."""
    outage = result["outage_recall"]
    lines = [f"method {result.get('method', '?')}  requests {result['requests']}  accuracy {result['accuracy']:.3f}  outage recall "
             + ("n/a" if outage is None else f"{outage:.3f}"),
             "per language: " + ", ".join(f"{k} {v:.3f}" for k, v in result["per_language"].items()),
             "recall per class:"]
    lines += [f"  {label:<22} {recall:.3f}" for label, recall in result["per_class"].items()]
    columns = sorted({c for row in result["confusion"].values() for c in row} | set(result["confusion"]))
    width = max(len(c) for c in columns) + 1
    lines.append("confusion (rows: label, columns: suggested):")
    lines.append(" " * width + "".join(f"{c[:10]:>11}" for c in columns))
    for label, row in result["confusion"].items():
        lines.append(f"{label:<{width}}" + "".join(f"{row.get(c, 0):>11}" for c in columns))
    if "choice" in result:
        lines += _format_choice(result["choice"])
    return "\n".join(lines)


def _format_choice(choice: dict) -> list[str]:
    by = choice["overall"]["by"]
    lines = [f"leave one {by} out" + (", examples without the rules" if by == "language" else "")
             + f" (method and margin chosen on the others, a missed outage costing "
             f"{choice['overall']['outage_miss_cost']:g} errors; measured on the one left out):"]
    lines += [f"  {lang}: {row['method']:<10} margin {row['outage_margin']:<4g} accuracy "
              f"{row['accuracy']:.3f}  outage recall {row['outage_recall']}"
              for lang, row in choice.items() if lang != "overall"]
    overall = choice["overall"]
    lines.append(f"  overall accuracy {overall['accuracy']:.3f}  outage recall {overall['outage_recall']}; "
                 f"chosen on every language: {overall['chosen']}")
    lines.append(f"  each {by} with none of its own examples (accuracy / outage recall):")
    lines += [f"  {name:<22} " + ", ".join(f"{lang} {acc:.3f}/{outage}" for lang, (acc, outage) in row.items())
              for name, row in overall["by_method"].items()]
    return lines
