"""``kb tickets``: the ticket work that needs time to pass: the unresolved-search rules
(``process``) and the SLA (``sla-check``), which the job consumer also runs periodically
(``TICKETS_PROCESS_SECONDS``, ``SLA_CHECK_SECONDS``; these commands are for cron), knowledge
gaps the articles now answer (``gaps-check``); ``eval``, the request classes' quality, and
``corrections``, agents' class corrections as labelled requests."""
from __future__ import annotations

import datetime as dt

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from indexer.search import SearchUnavailable
from kb_server.cli.instance import ensure_database
from kb_server.console import kcs
from kb_server.tickets import (classify, corrections, evaluate, incident_eval, incidents, service,
                               sla_watch)


@click.group("tickets")
@with_appcontext
def tickets() -> None:
    """Line-1 tickets."""
    ensure_database()


@tickets.command("process")
@click.option("--now", type=click.DateTime(), default=None,
              help="Judge as if it were this earlier UTC time (default: now; a later one is "
                   "refused: it would judge searches whose users may still click).")
@with_appcontext
def process_command(now: dt.datetime | None) -> None:
    """Judge searches whose no-click window has passed; group signals into gap tickets."""
    if now is not None and now > dt.datetime.now(dt.timezone.utc).replace(tzinfo=None):
        raise click.BadParameter("must not be later than the current UTC time: searches whose "
                                 "no-click window has not passed would become gap tickets",
                                 param_hint="--now")
    total = service.process_all_pending(now)
    summary = ", ".join(f"{rule}: {count}" for rule, count in sorted(total.items())) or "nothing"
    click.echo(f"events judged: {summary}")


@tickets.command("sla-check")
@click.option("--now", type=click.DateTime(), default=None,
              help="Dry run: show the states and actions a check at this UTC time would find; "
                   "nothing is stored and no action is taken (default: check now, for real).")
@with_appcontext
def sla_check_command(now: dt.datetime | None) -> None:
    """Refresh the SLA state of open tickets and take the actions due (SLA_ACTIONS)."""
    counts = sla_watch.check_tickets() if now is None else sla_watch.preview_tickets(now)
    summary = ", ".join(f"{key}: {value}" for key, value in sorted(counts.items())) or "no open tickets"
    click.echo(f"SLA: {summary}" if now is None
               else f"SLA at {now:%Y-%m-%d %H:%M} UTC (dry run, nothing written): {summary}")


@tickets.command("gaps-check")
@click.option("--notify", is_flag=True,
              help="E-mail the article to the users who left an e-mail on an answered gap.")
@with_appcontext
def gaps_check_command(notify: bool) -> None:
    """Search the grouped queries of open gap tickets again; mark answered those that now find
    an article (run after `kb index`)."""
    try:
        answered = kcs.check_gaps(notify=notify)
    except SearchUnavailable as exc:
        raise click.ClickException(f"search is unavailable: {exc}") from None
    for row in answered:
        notified = f" (notified: {', '.join(row['notified'])})" if row["notified"] else ""
        click.echo(f"{row['reference']} answered by {row['article']}{notified}")
    click.echo(f"gaps answered: {len(answered)}")


@tickets.command("eval")
@click.argument("path", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--choose", is_flag=True,
              help="Also choose the embedder method and outage margin by leaving one language out "
                   "(a file: the examples deciding every request without the rules) or one labelled "
                   "set out (a folder) (`choice` key).")
@with_appcontext
def eval_command(path: str, as_json: bool, choose: bool) -> None:
    """Accuracy, recall per class and confusion matrix of the suggested request classes on a
    labelled JSONL file (``{"text", "label", "language"}`` a line) or a folder of them, with the
    classes, embedder and method in effect (``KB_EMBEDDER=none`` measures the keyword-only
    mode). The requests measured are left out of the labelled examples: a bundled set is
    measured as unseen, and a folder set by set (``sets`` key)."""
    try:
        rows = evaluate.load_examples(path) if Path(path).is_dir() else evaluate.load_requests(path)
    except evaluate.EvalError as exc:
        raise click.ClickException(str(exc)) from None
    classifier = classify.classifier()
    by_set = Path(path).is_dir()
    if by_set:
        result = evaluate.report_by_set(rows, lambda texts: _suggest(classifier.with_method(
            classifier.method, classifier.outage_margin, without_texts=texts)))
    else:
        result = evaluate.report(rows, _suggest(classifier.with_method(
            classifier.method, classifier.outage_margin, without_texts={row["text"] for row in rows})))
    result["method"] = classifier.method if classifier.embedder else "keywords"
    result["outage_margin"] = classifier.outage_margin
    if choose:
        if classifier.embedder is None:
            raise click.ClickException("--choose needs an embedder (KB_EMBEDDER is none or failed)")
        result["choice"] = _choose(classifier, rows, by_set)
    click.echo(json.dumps(result, ensure_ascii=False, indent=1) if as_json
               else evaluate.format_report(result))


def _choose(classifier: classify.Classifier, rows: list[dict], by_set: bool) -> dict:
    """Method and outage margin chosen leaving one labelled set out (with the rules, as
    deployed) or, for one file, one language out (the examples deciding every request)."""
    if by_set:
        texts = {name: {row["text"] for row in rows if row["set"] == name} for name in {row["set"] for row in rows}}
        return evaluate.leave_one_out(rows, lambda candidate, name: _suggest(
            classifier.with_method(*candidate, without_texts=texts[name])), by="set")
    texts = {row["text"] for row in rows}
    return evaluate.leave_one_out(rows, lambda candidate, language: _suggest(
        classifier.with_method(*candidate, without_language=language, rules=False, without_texts=texts)))


@tickets.command("incident-eval")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--choose", is_flag=True,
              help="Also choose INCIDENT_COSINE by leaving one language out (`choice` key).")
@with_appcontext
def incident_eval_command(path: str, as_json: bool, choose: bool) -> None:
    """How incident grouping decides labelled report pairs (``{"a", "b", "same", "languages"}``
    a line) with the settings and embedder in effect, beside the topic words alone."""
    try:
        pairs = incident_eval.load_pairs(path)
    except evaluate.EvalError as exc:
        raise click.ClickException(str(exc)) from None
    encode = incidents.encoder()
    if choose and encode is None:
        raise click.ClickException("--choose needs an embedder (KB_EMBEDDER is none or failed)")
    result = incident_eval.report(pairs, incidents.scorer(), encode,
                                  current_app.config["INCIDENT_SIMILARITY"], choose)
    click.echo(json.dumps(result, ensure_ascii=False, indent=1) if as_json
               else incident_eval.format_report(result))


@tickets.command("corrections")
@with_appcontext
def corrections_command() -> None:
    """Agents' class corrections as labelled JSONL (``kb tickets eval`` rows; new examples for
    the classes file), after the suggestions' accuracy on stderr."""
    accuracy = corrections.suggestion_accuracy()
    click.echo(f"suggestions: {accuracy['suggested']}, corrected: {accuracy['corrected']}, "
               f"accuracy: {accuracy['accuracy']}", err=True)
    for row in corrections.examples():
        click.echo(json.dumps(row, ensure_ascii=False))


def _suggest(classifier: classify.Classifier):
    return lambda text: classifier.classify(text, "contact").request_class
