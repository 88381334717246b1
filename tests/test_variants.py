"""eval/variants.py: robustness variants of the dev sets, written deterministically."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from search_helpers import BEIR_TINY

SCRIPT = Path(__file__).resolve().parent.parent / "eval" / "variants.py"
spec = importlib.util.spec_from_file_location("variants", SCRIPT)
variants = importlib.util.module_from_spec(spec)
spec.loader.exec_module(variants)


def test_query_variants():
    query = {"_id": "q7", "text": "How do I reset the password of my Orbita account?"}
    assert variants.short(query, "en") == "reset password Orbita"
    assert variants.lower(query, "en") == "how do i reset the password of my orbita account"
    typo = variants.typo(query, "en")
    changed = [(a, b) for a, b in zip(query["text"].split(), typo.split()) if a != b]
    assert len(changed) == 1 and len(typo.split()) == len(query["text"].split())
    assert variants.typo(query, "en") == typo                    # the same typo every run
    assert "how do I reset the password" in variants.chatty(query, "en")
    assert "забыла пароль" in variants.chatty({"_id": "q1", "text": "Забыла пароль"}, "ru")


def test_titles_become_questions_and_threads_one_answer():
    assert variants.as_question("Connecting the Samsung Smart Remote to the TV") == \
        "How do I connect the Samsung Smart Remote to the TV?"
    assert variants.as_question("Using Smart Hub") == "How do I use Smart Hub?"
    assert variants.as_question("Setting the current time") == "How do I set the current time?"
    assert variants.as_question("Changing the picture size") == "How do I change the picture size?"
    assert variants.as_question("Smart Hub") == "What should I know about smart Hub?"
    thread = {"_id": "faq1", "title": "How do I delete my account?", "text": "Go to Settings.\n\nOr mail us."}
    assert variants.first_answer(thread)["text"] == "Go to Settings."


def test_variant_folders_keep_the_labels(tmp_path):
    folders = variants.write_variants([BEIR_TINY], tmp_path)
    assert {f.name for f in folders} == {f"beir_tiny-{name}" for name in variants.QUERY_VARIANTS}
    for folder in folders:
        assert (folder / "qrels.tsv").read_text() == (BEIR_TINY / "qrels.tsv").read_text()
        assert len((folder / "queries.jsonl").read_text().splitlines()) == \
            len((BEIR_TINY / "queries.jsonl").read_text().splitlines())
