"""Write the cross-set unanswerable query files of eval/cross/ (see README.md there).

    python eval/cross/make.py ../shared/eval

Deterministic: a seeded shuffle of each source set's queries, the ids in DROPPED skipped (read
by hand: the other corpus answers them), the first SAMPLE kept in shuffled order.
"""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path

SEED = 20240601
SAMPLE = 200
HERE = Path(__file__).resolve().parent
ORBITA_RU = HERE.parent / "orbita_ru" / "queries.jsonl"

# Queries a document of the other corpus would answer, found by reading the samples.
DROPPED = {
    # stackfaq on emanual: none; all 200 sampled ask about web apps (read by hand)
    "stackfaq_on_emanual": set(),
    # emanual on stackfaq: questions that name no TV feature and read as well as questions about
    # a web app (notifications, accounts, apps, photos, language, reset, PIN, captions)
    "emanual_on_stackfaq": {
        "q0", "q45", "q87", "q102", "q103", "q152", "q155", "q187", "q188", "q192", "q193",
        "q196", "q268", "q304", "q507", "q553", "q560", "q563", "q564", "q568", "q580",
    },
    # orbita_ru on English corpora: generic account, 2FA, export, upload, shortcut and mobile
    # questions that a Facebook/Google/Trello/Gmail FAQ or a TV manual answers as asked
    "orbita_ru_on_english": {
        "q6", "q7", "q9", "q10", "q11", "q12", "q13", "q17", "q18", "q19", "q34", "q43", "q44",
        "q47", "q49", "q50", "q51", "q52", "q53", "q54", "q56", "q57", "q58", "q59", "q60",
    },
}


def read_queries(path: Path) -> list[dict]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [{"_id": q["_id"], "text": q["text"]} for q in map(json.loads, filter(str.strip, lines))]


def sample(queries: list[dict], dropped: set[str], size: int) -> list[dict]:
    """The first ``size`` queries of a seeded shuffle, leaving out ``dropped`` ids."""
    shuffled = list(queries)
    random.Random(SEED).shuffle(shuffled)
    return [q for q in shuffled if q["_id"] not in dropped][:size]


def write(name: str, queries: list[dict]) -> None:
    lines = (json.dumps(q, ensure_ascii=False) + "\n" for q in queries)
    (HERE / f"{name}.jsonl").write_text("".join(lines), encoding="utf-8")
    print(f"{name}.jsonl: {len(queries)} queries")


def main(shared: Path) -> None:
    sources = {
        "stackfaq_on_emanual": (shared / "stackfaq" / "queries.jsonl", SAMPLE),
        "emanual_on_stackfaq": (shared / "emanual_smarttv" / "queries.jsonl", SAMPLE),
        "orbita_ru_on_english": (ORBITA_RU, None),   # all 60 questions but the dropped
    }
    for name, (path, size) in sources.items():
        queries = read_queries(path)
        write(name, sample(queries, DROPPED[name], size or len(queries)))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[2] / "shared" / "eval")
