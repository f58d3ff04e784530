"""GET / and GET /dashboard/{asset}: the change-visibility dashboard. The page, its scripts,
styles and the charting library it uses are files of this package, served by the ledger itself
(no CDN: the page works offline and in an air-gapped cluster), under a strict
Content-Security-Policy: scripts and styles only from the ledger, no inline code."""

from __future__ import annotations

import hashlib
import mimetypes
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

from aiohttp import web

PREFIX = "/dashboard/"
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",  # revalidated with the ETag: an upgrade is seen at once
}
TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".html": "text/html",
    ".LICENSE": "text/plain",
}


class Asset:
    """One file of the page, read once: its bytes, type and entity tag."""

    def __init__(self, name: str, body: bytes) -> None:
        self.body = body
        suffix = name[name.rfind(".") :]
        self.content_type = TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "text/plain"
        self.etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _walk(folder: Traversable, prefix: str = "") -> dict[str, Asset]:
    found: dict[str, Asset] = {}
    for entry in folder.iterdir():
        if entry.is_dir():
            found |= _walk(entry, f"{prefix}{entry.name}/")
        else:
            found[prefix + entry.name] = Asset(entry.name, entry.read_bytes())
    return found


@cache
def assets() -> dict[str, Asset]:
    """Every file of the page by its path under /dashboard/: a request can name only these."""
    return _walk(files(__package__).joinpath("static"))


def _serve(request: web.Request, asset: Asset) -> web.Response:
    headers = {**HEADERS, "ETag": asset.etag}
    if asset.etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    charset = "utf-8" if asset.content_type.startswith("text/") else None
    return web.Response(
        body=asset.body, content_type=asset.content_type, charset=charset, headers=headers
    )


async def dashboard(request: web.Request) -> web.Response:
    """GET /: the page."""
    return _serve(request, assets()["index.html"])


async def asset(request: web.Request) -> web.Response:
    """GET /dashboard/{name}: a script, style sheet or licence of the page; 404 for any other."""
    found = assets().get(request.match_info["name"])
    if found is None:
        raise web.HTTPNotFound(text="no such file of the dashboard")
    return _serve(request, found)


def add_dashboard(router: web.UrlDispatcher) -> None:
    router.add_get("/", dashboard)
    router.add_get(PREFIX + "{name:.+}", asset)
