"""Files streamed chunk by chunk, never whole in memory: the history as NDJSON or CSV, and the
verification export of the log (docs/verification.md)."""

from __future__ import annotations

import asyncio
import csv
import io
import logging
from collections.abc import Callable, Generator
from concurrent.futures import ThreadPoolExecutor

import msgspec
from aiohttp import web

from ledger.audit.export import export_file
from ledger.eventstore.dialect import Dialect
from ledger.http.consistency import caught_up
from ledger.http.keys import LEDGER, STORE
from ledger.http.parameters import history_query
from ledger.http.problems import Unprocessable
from ledger.wire.shapes import HistoryItem

log = logging.getLogger("ledger.http")
CSV_COLUMNS = (
    "position", "event_id", "recorded_at", "app", "env", "kind", "actor", "actor_kind", "via",
    "correlation_id", "summary", "reason", "data",
)  # fmt: skip
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_json = msgspec.json.Encoder()


def ndjson(items: list[HistoryItem]) -> bytes:
    """One JSON object per line, the same shape as a history item."""
    return b"".join(_json.encode(item) + b"\n" for item in items)


def csv_rows(items: list[HistoryItem]) -> bytes:
    """CSV rows (RFC 4180, CRLF); ``data`` as JSON text."""
    out = io.StringIO()
    writer = csv.writer(out)
    for item in items:
        writer.writerow([_cell(item, column) for column in CSV_COLUMNS])
    return out.getvalue().encode()


def csv_header() -> bytes:
    out = io.StringIO()
    csv.writer(out).writerow(CSV_COLUMNS)
    return out.getvalue().encode()


def _cell(item: HistoryItem, column: str) -> str:
    value = getattr(item, column)
    if value is None:
        return ""
    if column == "data":
        return _json.encode(value).decode()
    if column == "recorded_at":
        return str(value.isoformat())
    text = str(value)
    # A cell a spreadsheet would run as a formula is kept as text (OWASP CSV injection).
    return "'" + text if text.startswith(FORMULA_STARTS) else text


FORMATS: dict[str, tuple[str, Callable[[list[HistoryItem]], bytes]]] = {
    "ndjson": ("application/x-ndjson", ndjson),
    "csv": ("text/csv", csv_rows),
}


async def export_history(request: web.Request) -> web.StreamResponse:
    """GET /v1/history/export: the filtered history, oldest first, up to where the views were
    when it began (header ``Ledger-Export-Upto``); filters as /v1/history, ``after`` to resume."""
    queries = await caught_up(request)
    name = request.query.get("format", "ndjson")
    if name not in FORMATS:
        raise Unprocessable("format", f"must be one of {', '.join(FORMATS)}")
    query = history_query(request)
    content_type, encode = FORMATS[name]
    upto = await queries.position()
    response = web.StreamResponse(
        headers={
            "Content-Disposition": f'attachment; filename="ledger-history.{name}"',
            "Ledger-Export-Upto": str(upto),
        }
    )
    response.content_type = content_type
    response.charset = "utf-8"
    response.enable_chunked_encoding()
    await response.prepare(request)
    if name == "csv":
        await response.write(csv_header())
    try:
        async for chunk in queries.export(query, upto):
            await response.write(encode(chunk))
    except ConnectionResetError:
        raise  # the client went away: nothing more to send
    except Exception:
        # The status line is sent: the only honest signal left is a truncated stream.
        log.exception("history export failed")
        if request.transport is not None:
            request.transport.close()
        return response
    await response.write_eof()
    return response


async def export_audit(request: web.Request) -> web.StreamResponse:
    """GET /v1/audit/export: the log as a third party verifies it (docs/verification.md), read
    in one snapshot of the store: header, checkpoints, every event with its form, an end line."""
    store, signer = request.app[STORE], request.app[LEDGER].audit.signer
    chunks = export_file(store.settings, Dialect.of(store), signer)
    response = web.StreamResponse(
        headers={"Content-Disposition": 'attachment; filename="ledger-audit.ndjson"'}
    )
    response.content_type = "application/x-ndjson"
    response.charset = "utf-8"
    response.enable_chunked_encoding()
    await response.prepare(request)
    await _stream(request, response, chunks)
    return response


async def _stream(
    request: web.Request, response: web.StreamResponse, chunks: Generator[bytes, None, None]
) -> None:
    """Write a generator's chunks, each made in one thread of the export's own (the snapshot
    it reads is a connection of that thread), closing it there whatever happens."""
    loop = asyncio.get_running_loop()
    thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-export")
    try:
        while (chunk := await loop.run_in_executor(thread, next, chunks, None)) is not None:
            await response.write(chunk)
        await response.write_eof()
    except ConnectionResetError:
        pass  # the client went away: nothing more to send
    except Exception:
        # The status line is sent: the only honest signal left is a truncated stream.
        log.exception("audit export failed")
        if request.transport is not None:
            request.transport.close()
    finally:
        await loop.run_in_executor(thread, chunks.close)
        thread.shutdown(wait=False)
