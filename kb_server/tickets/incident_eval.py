"""``kb tickets incident-eval``: does incident grouping put reports of one outage together across
languages and keep different outages apart, on a labelled JSONL file of report pairs.

Each line is ``{"a": TEXT, "b": TEXT, "same": true|false, "languages": "en-ru"}`` (both reports of
the ``outage`` class). A pair is grouped when ``incidents.likeness`` reaches 1 (topic words, or
the e5 cosine of their topic words with an embedder). ``choose_cosine`` picks ``INCIDENT_COSINE``
without tuning to one language: for each language, the best threshold on the pairs not involving
it (keeping different outages apart first) is measured on the pairs that do.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np

from kb_server.tickets.evaluate import EvalError
from kb_server.tickets.incidents import OUTAGE, Report, alike

Scorer = Callable[[Report, Report], float]
MIN_APART = 0.9   # share of different-outage pairs a chosen threshold must keep apart


def load_pairs(path: str | Path) -> list[dict]:
    """The labelled pairs of a JSONL file (EvalError says which line is wrong)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise EvalError(f"cannot read {path}: {exc.strerror}") from None
    pairs = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            pair = json.loads(line)
            pairs.append({"a": str(pair["a"]), "b": str(pair["b"]), "same": bool(pair["same"]),
                          "languages": str(pair.get("languages", "")).split("-")})
        except (ValueError, KeyError, TypeError):
            raise EvalError(f"{path}:{number}: expected {{\"a\", \"b\", \"same\", \"languages\"}}") from None
    if not pairs:
        raise EvalError(f"{path}: no pairs")
    return pairs


def accuracy(pairs: list[dict], grouped: Callable[[dict], bool]) -> dict:
    """Share of pairs decided right, and of same / different pairs."""
    right = [grouped(p) == p["same"] for p in pairs]
    same = [r for r, p in zip(right, pairs) if p["same"]]
    different = [r for r, p in zip(right, pairs) if not p["same"]]
    share = lambda values: round(sum(values) / len(values), 4) if values else None  # noqa: E731
    return {"pairs": len(pairs), "accuracy": share(right), "same_grouped": share(same),
            "different_apart": share(different)}


def _preference(result: dict, threshold: float) -> tuple:
    """Thresholds keeping at least ``MIN_APART`` of different outages apart first (two outages
    in one incident hide one), then the most accurate, then the highest."""
    return result["different_apart"] >= MIN_APART, result["accuracy"], threshold


def choose_cosine(pairs: list[dict], words: Callable[[dict], float],
                  cosine: Callable[[dict], float], similarity: float) -> dict:
    """Per language: the cosine threshold best on the pairs without that language (midway
    between two observed cosines; see ``_preference``), and its numbers on the pairs with it;
    ``overall``: the median of those thresholds on all pairs."""
    grouped_by_words = lambda p: words(p) >= similarity  # noqa: E731
    cosines = sorted({round(cosine(p), 4) for p in pairs})
    candidates = [round((a + b) / 2, 4) for a, b in zip(cosines, cosines[1:])] or cosines

    def decide(threshold: float) -> Callable[[dict], bool]:
        return lambda p: grouped_by_words(p) or cosine(p) >= threshold

    result = {}
    for language in sorted({lang for p in pairs for lang in p["languages"]}):
        train = [p for p in pairs if language not in p["languages"]]
        test = [p for p in pairs if language in p["languages"]]
        best = max(candidates, key=lambda t: _preference(accuracy(train, decide(t)), t))
        result[language] = {"cosine": best, **accuracy(test, decide(best))}
    chosen = float(np.median([row["cosine"] for row in result.values()]))
    result["overall"] = {"cosine": chosen, **accuracy(pairs, decide(chosen))}
    return result


def report(pairs: list[dict], score: Scorer | None, encode=None, similarity: float = 0.5,
           choose: bool = False) -> dict:
    """Grouping accuracy of ``score`` (``incidents.likeness`` with the settings in effect) on the
    pairs, the words-only accuracy beside it, and with ``choose`` and an embedder (``encode``)
    the leave-one-language-out choice of the cosine threshold (``choice`` key)."""
    reports = {text: Report(text, OUTAGE) for p in pairs for text in (p["a"], p["b"])}
    words = lambda p: alike(reports[p["a"]].topic, reports[p["b"]].topic)  # noqa: E731
    result = {**accuracy(pairs, lambda p: score(reports[p["a"]], reports[p["b"]]) >= 1),
              "words_only": accuracy(pairs, lambda p: words(p) >= similarity)}
    if choose and encode is not None:
        def cosine(p: dict) -> float:
            one, other = reports[p["a"]], reports[p["b"]]
            return float(encode(one.topic_text) @ encode(other.topic_text)) if one.topic and other.topic else 1.0
        result["choice"] = choose_cosine(pairs, words, cosine, similarity)
    return result


def format_report(result: dict) -> str:
    lines = [f"pairs {result['pairs']}  accuracy {result['accuracy']}  same grouped "
             f"{result['same_grouped']}  different apart {result['different_apart']}",
             "words only: accuracy {accuracy}  same grouped {same_grouped}  different apart "
             "{different_apart}".format(**result["words_only"])]
    if "choice" in result:
        lines.append("leave one language out (cosine chosen without the language's pairs, "
                     "measured on them):")
        lines += [f"  {lang:<8} cosine {row['cosine']:.4f}  pairs {row['pairs']}  accuracy "
                  f"{row['accuracy']}  same grouped {row['same_grouped']}  different apart "
                  f"{row['different_apart']}" for lang, row in result["choice"].items()]
    return "\n".join(lines)
