"""The witness's HTTP interface (c2sp.org/tlog-witness): ``POST /add-checkpoint`` answers the
cosignature lines (text/plain), or a refusal: 409 with the witness's size as
``text/x.tlog.size``, any other as RFC 9457 problem+json naming the field at fault."""

from __future__ import annotations

import logging
from http import HTTPStatus

import msgspec
from aiohttp import web

from ledger.domain.witness_protocol import SIZE_TYPE, size_body
from ledger.logs import configure_logging
from ledger.wire.shapes import FieldError, Problem, problem_type
from ledger.witness.config import STATE_FILE
from ledger.witness.witness import Refused, Witness

log = logging.getLogger("ledger.witness")
WITNESS = web.AppKey("witness", Witness)
MAX_BODY_BYTES = 128 * 1024
"""A request: a proof of at most 63 hashes and a note of a few signatures."""


def create_witness_app(witness: Witness) -> web.Application:
    """The witness's application: add-checkpoint and a health check."""
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[WITNESS] = witness
    app.router.add_post("/add-checkpoint", add_checkpoint)
    app.router.add_get("/healthz", healthz)
    return app


async def add_checkpoint(request: web.Request) -> web.Response:
    """Cosign the checkpoint of the request body, or say why not."""
    try:
        text = (await request.read()).decode("utf-8")
    except UnicodeDecodeError:
        return _problem(Refused(400, "the request body is not UTF-8 text", "body"))
    try:
        cosignatures = await request.app[WITNESS].add_checkpoint(text)
    except Refused as refused:
        if refused.status == HTTPStatus.CONFLICT and refused.size is not None:
            body = size_body(refused.size).encode()  # exactly this type: no charset
            return web.Response(status=409, body=body, headers={"Content-Type": SIZE_TYPE})
        return _problem(refused)
    lines = "".join(cosignature.line() for cosignature in cosignatures)
    return web.Response(text=lines, content_type="text/plain", charset="utf-8")


def _problem(refused: Refused) -> web.Response:
    title = HTTPStatus(refused.status).phrase
    body = Problem(
        type=problem_type(title),
        title=title,
        status=refused.status,
        detail=refused.detail,
        errors=[FieldError(field=refused.field, message=refused.detail)],
    )
    return web.Response(
        status=refused.status,
        body=msgspec.json.encode(body),
        content_type="application/problem+json",
    )


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def run_witness(witness: Witness, host: str, port: int, log_level: str = "INFO") -> None:
    """Serve until SIGINT/SIGTERM, then close the state file."""
    configure_logging(log_level)
    logs = sorted(witness.logs)
    log.info(
        "witness %s listening",
        witness.cosigner.name,
        extra={
            "url": f"http://{host}:{port}",
            "verifier_key": witness.cosigner.key.verifier_key,
            "logs": logs,
            "state": STATE_FILE,
        },
    )
    try:
        web.run_app(create_witness_app(witness), host=host, port=port, print=None, access_log=None)
    finally:
        witness.state.close()
