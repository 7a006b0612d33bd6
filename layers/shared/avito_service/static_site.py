"""A folder of static text files (the operator console) as API Gateway proxy answers.

Only files under the folder with a known text type are served (no ``..``, no hidden files, no Python);
each answer has its content type, a strong ETag (a repeat with ``If-None-Match`` is a bodiless 304) and
``Cache-Control: no-cache`` so a browser revalidates after every deploy: the console has no build step
that could put content hashes in file names, so long-lived caching would serve stale modules.
Every answer carries the security headers a page that holds a bearer token needs (see ``security_headers``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import mimetypes
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

# The types the console uses; anything else is not served (binary types would need API Gateway's
# BinaryMediaTypes and Accept negotiation, so the console draws its icons in SVG and its sound with WebAudio).
SERVED_SUFFIXES = frozenset({".html", ".js", ".css", ".svg", ".json", ".txt", ".webmanifest"})
_TEXT_TYPES = {".js": "text/javascript", ".webmanifest": "application/manifest+json"}
MAX_PATH_LENGTH = 200


@dataclass(frozen=True)
class StaticFile:
    body: str
    content_type: str
    etag: str


def content_type_of(path: PurePosixPath) -> str:
    """The Content-Type for a served file (UTF-8 for every text type)."""
    guessed = _TEXT_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"{guessed}; charset=utf-8"  # every served type is text


def make_file(body: str, content_type: str) -> StaticFile:
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()[:32]
    return StaticFile(body=body, content_type=content_type, etag=f'"{digest}"')


class StaticSite:
    """The files below ``root``, read once per container on first request."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    @functools.cache  # noqa: B019 - one site object per container; the files do not change while it runs
    def file(self, relative: str) -> StaticFile | None:
        """The file at ``relative`` (a URL path below the site), or None if it is not one the site serves."""
        if not relative or len(relative) > MAX_PATH_LENGTH or "\\" in relative or "\x00" in relative:
            return None
        parts = relative.split("/")  # not PurePosixPath's parts, which hide "a//b" and "./a"
        if any(part in ("", ".", "..") or part.startswith(".") for part in parts):
            return None
        path = PurePosixPath(*parts)
        if path.suffix not in SERVED_SUFFIXES:
            return None
        target = (self.root / path).resolve()
        if not target.is_relative_to(self.root) or not target.is_file():
            return None
        return make_file(target.read_text(encoding="utf-8"), content_type_of(path))


def security_headers(connect_origins: list[str]) -> dict[str, str]:
    """Headers for every console answer: a strict Content-Security-Policy (own scripts and styles only,
    no inline code; API calls to the page's origin, live updates to the configured WebSocket origin;
    pictures and voice notes from Avito's hosts, which are any https host), no framing, no sniffing,
    no referrer (the page's address never carries the token after sign-in, but no referrer is safer)."""
    connect = " ".join(["'self'", *connect_origins])
    policy = "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"connect-src {connect}",
            "img-src 'self' data: blob: https: http:",
            "media-src 'self' blob: https: http:",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
    }


def websocket_origin(url: str) -> str | None:
    """``scheme://host[:port]`` of a ws:// or wss:// URL, for the policy's connect-src; None otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def file_answer(file: StaticFile, if_none_match: str | None, headers: dict[str, str]) -> dict[str, Any]:
    """The proxy answer for ``file``: 304 when the browser's copy is current, else 200 with the body."""
    common = {**headers, "ETag": file.etag, "Cache-Control": "no-cache"}
    if if_none_match and file.etag in [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]:
        return {"statusCode": 304, "headers": common, "body": ""}
    return {"statusCode": 200, "headers": {**common, "Content-Type": file.content_type}, "body": file.body}


def json_answer(status: int, data: Any, headers: dict[str, str], *, cache: str = "no-store") -> dict[str, Any]:
    body = json.dumps(data, ensure_ascii=False)
    return {
        "statusCode": status,
        "headers": {**headers, "Content-Type": "application/json; charset=utf-8", "Cache-Control": cache},
        "body": body,
    }
