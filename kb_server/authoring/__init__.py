"""Authoring articles in the console, on KCS confidence states, with the ``articles/`` folder
kept in sync both ways.

| module | what |
|---|---|
| ``fields`` | an article's front matter + body as the editor sends it, validated by the article parser; the Markdown file text |
| ``store`` | articles and revisions: save, autosave, submit, restore, diff between revisions |
| ``diff`` | two texts side by side, lines matched, changed words marked |
| ``files`` | the folder side: atomic writes, content hashes, ``sync_from_files`` (a file changed on disk becomes a revision) |
| ``publishing`` | publish and archive: conflict check, file write, incremental reindex, the source gap ticket resolved |
| ``listing`` | the articles list's filters (language, category, state, author, updated, flagged, stale, text) |
| ``uploads`` | images and attachments: type from the bytes, size limit, stored by content hash |
| ``prefill`` | a new draft from a ticket (its question or a gap's queries, the last reply) |
"""
from __future__ import annotations

from flask import Flask, current_app, request

EDITOR_PATHS = ("/console/articles", "/api/v1/articles")   # the editor, the staff API


def init_app(app: Flask) -> None:
    """Article bodies and uploads may be larger than ``MAX_REQUEST_BYTES`` (public endpoints'
    limit): the editor's paths and the staff API's articles accept up to ``UPLOAD_MAX_BYTES`` plus a form's worth. Registered
    before CSRF protection, which reads the form (and so the body) first."""
    @app.before_request
    def _editor_body_limit():
        if request.path.startswith(EDITOR_PATHS):
            request.max_content_length = current_app.config["UPLOAD_MAX_BYTES"] + 256 * 1024
