"""Images and attachments uploaded in the article editor.

The type is recognised from the file's first bytes (never from its name or the browser's
claim) and must be one of ``UPLOAD_TYPES``; the size is capped by ``UPLOAD_MAX_BYTES``. Files
are stored under ``UPLOADS_DIR`` named by their SHA-256 (the same file uploaded twice is stored
once) and served at ``/media/<name>`` with their recognised type, ``nosniff``, a sandboxing
CSP, and ``Content-Disposition: attachment`` for everything but images. SVG is not accepted
(it can carry scripts). A file is public once the published revision of a public, validated
article links to it; until then (a draft's image, an internal article's attachment, an
archived article's) only signed-in staff may fetch it (``is_public``).
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from flask import current_app

from indexer.articles.links import IMAGE_TYPES
from kb_server.authoring.fields import AuthoringError
from kb_server.extensions import db
from kb_server.models import ArticleRevision, ArticleUpload, KbArticle, User

# content type -> (extension, test of the first bytes)
SIGNATURES = {
    "image/png": ("png", lambda b: b.startswith(b"\x89PNG\r\n\x1a\n")),
    "image/jpeg": ("jpg", lambda b: b.startswith(b"\xff\xd8\xff")),
    "image/gif": ("gif", lambda b: b[:6] in (b"GIF87a", b"GIF89a")),
    "image/webp": ("webp", lambda b: b[:4] == b"RIFF" and b[8:12] == b"WEBP"),
    "application/pdf": ("pdf", lambda b: b.startswith(b"%PDF-")),
}


def sniff(data: bytes) -> str | None:
    """The content type the bytes are, of those we know; text is UTF-8 without NUL bytes."""
    for kind, (_, test) in SIGNATURES.items():
        if test(data[:16]):
            return kind
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "text/plain" if b"\x00" not in data else None


def folder() -> Path:
    return Path(current_app.config["UPLOADS_DIR"])


def store_upload(actor: User, filename: str, data: bytes) -> ArticleUpload:
    """Check and keep an uploaded file (committed); ``AuthoringError`` (400/413) otherwise."""
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    if not data:
        raise AuthoringError("err_file_empty")
    if len(data) > limit:
        raise AuthoringError("err_file_large", 413, kb=limit // 1024)
    kind = sniff(data)
    if kind is None or kind not in current_app.config["UPLOAD_TYPES"]:
        allowed = ", ".join(current_app.config["UPLOAD_TYPES"])
        raise AuthoringError("err_file_type", 415, allowed=allowed)
    extension = SIGNATURES[kind][0] if kind in SIGNATURES else "txt"
    name = f"{hashlib.sha256(data).hexdigest()[:32]}.{extension}"
    existing = db.session.scalar(db.select(ArticleUpload).filter_by(stored_name=name))
    if existing is not None:
        return existing
    folder().mkdir(parents=True, exist_ok=True)
    (folder() / name).write_bytes(data)
    row = ArticleUpload(stored_name=name, filename=Path(filename or name).name[:255],
                        content_type=kind, size=len(data), uploader_id=actor.id)
    db.session.add(row)
    db.session.commit()
    return row


def markdown_for(row: ArticleUpload, url: str) -> str:
    """What the editor inserts: an image, or a link to the attachment."""
    label = row.filename.replace("]", "").replace("[", "") or row.stored_name
    return f"![{label}]({url})" if row.content_type.startswith("image/") else f"[{label}]({url})"


def find(name: str) -> ArticleUpload | None:
    return db.session.scalar(db.select(ArticleUpload).filter_by(stored_name=name))


def is_public(name: str) -> bool:
    """Whether the published revision of a public, validated (not archived) article links to
    the uploaded file ``name`` (its ``/media/<name>`` URL in the body)."""
    linked = ArticleRevision.body.contains(f"/media/{name}", autoescape=True)
    return db.session.scalar(
        db.select(KbArticle.id)
        .join(ArticleRevision, ArticleRevision.id == KbArticle.published_revision_id)
        .where(KbArticle.state == "validated", ArticleRevision.visibility == "public", linked)
        .limit(1)) is not None


def folder_image(articles_dir: str | Path, relative: str) -> tuple[Path, str] | None:
    """``(file, content type)`` of an image in the articles folder that a file-based article
    shows (``indexer.articles.links``), None unless it is one: inside the folder (no ``..``,
    no hidden folder, no link out of it), of an image type by its name and its bytes, at
    most ``UPLOAD_MAX_BYTES``."""
    root = Path(articles_dir).resolve()
    parts = relative.split("/")
    kind = IMAGE_TYPES.get(Path(relative).suffix.lower())
    if kind is None or any(not part or part.startswith(".") for part in parts):
        return None
    path = root.joinpath(*parts).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    if path.stat().st_size > current_app.config["UPLOAD_MAX_BYTES"]:
        return None
    with path.open("rb") as file:
        return (path, kind) if sniff(file.read(16)) == kind else None
