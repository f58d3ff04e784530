"""A tiny HTTP client of the ledger's API, configured by LEDGER_URL, LEDGER_TOKEN, LEDGER_ACTOR.

Every failure becomes a ``click.ClickException`` with a one-line message, never a traceback.
"""

from __future__ import annotations

import http.client
import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import click

DEFAULT_URL = "http://127.0.0.1:8080"
Query = Mapping[str, str | int | None]


class Unreachable(click.ClickException):
    """No answer from the server: not running, wrong URL, network down."""

    def __init__(self, url: str, reason: object) -> None:
        super().__init__(
            f"cannot reach the ledger at {url}: {reason} — is `ledger serve` running? "
            "(set LEDGER_URL)"
        )


class BadConfiguration(click.ClickException):
    exit_code = 2


class ProblemError(click.ClickException):
    """The server refused the request with an RFC 9457 problem."""

    def __init__(self, status: int, problem: Mapping[str, Any]) -> None:
        self.status = status
        self.problem = problem
        super().__init__(describe_problem(status, problem))

    @property
    def detail(self) -> str:
        return str(self.problem.get("detail") or self.problem.get("title") or "")


def describe_problem(status: int, problem: Mapping[str, Any]) -> str:
    """One line: title, status, detail and the fields named in ``errors``."""
    title = problem.get("title") or http.client.responses.get(status, "Error")
    line = f"{title} (HTTP {status})"
    detail = problem.get("detail")
    if detail and detail != title:
        line += f": {detail}"
    fields = [str(e.get("field")) for e in problem.get("errors") or [] if isinstance(e, dict)]
    if fields:
        line += f" [fields: {', '.join(fields)}]"
    if problem.get("gate"):
        policy = f", policy {problem['policy']}" if problem.get("policy") else ""
        line += f" [gate: {problem['gate']}{policy}]"
    return " ".join(line.split())


class Reply:
    """A successful answer: the raw body, decoded on demand."""

    def __init__(self, status: int, body: bytes) -> None:
        self.status = status
        self.body = body

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            raise click.ClickException("the ledger answered with something not JSON") from None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


TRACE_VARIABLES = {"TRACEPARENT": "traceparent", "TRACESTATE": "tracestate"}
"""The environment variables a pipeline's tracing sets for the commands it runs (OpenTelemetry's
convention), sent as the W3C Trace Context headers: the ledger keeps a valid one on its events."""


def trace_headers(env: Mapping[str, str]) -> dict[str, str]:
    """The trace headers from the environment (values the header cannot carry are left out)."""
    return {
        header: value
        for variable, header in TRACE_VARIABLES.items()
        if (value := env.get(variable, "")) and value.isascii() and value.isprintable()
        and len(value) <= 512
    }  # fmt: skip


class LedgerClient:
    def __init__(
        self, url: str, *, token: str | None = None, actor: str | None = None, timeout: float = 30
    ) -> None:
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise BadConfiguration(f"LEDGER_URL must be an http(s) URL, got {url!r}")
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.headers = {"Accept": "application/json", "X-Ledger-Via": "cli"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        if actor:
            self.headers["X-Ledger-Actor"] = actor

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LedgerClient:
        env = os.environ if environ is None else environ
        client = cls(
            env.get("LEDGER_URL") or DEFAULT_URL,
            token=env.get("LEDGER_TOKEN") or None,
            actor=env.get("LEDGER_ACTOR") or None,
        )
        client.headers |= trace_headers(env)
        return client

    def get(self, path: str, query: Query | None = None) -> Reply:
        return self._send("GET", path, query, None)

    def post(
        self, path: str, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> Reply:
        return self._send("POST", path, None, json.dumps(body).encode(), headers=headers)

    def put(
        self, path: str, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> Reply:
        return self._send("PUT", path, None, json.dumps(body).encode(), headers=headers)

    def post_ndjson(self, path: str, lines: bytes) -> Reply:
        return self._send("POST", path, None, lines, "application/x-ndjson")

    @contextmanager
    def stream(
        self, path: str, query: Query | None = None, headers: Mapping[str, str] | None = None
    ) -> Iterator[http.client.HTTPResponse]:
        """A GET whose body is read as it arrives (an export, the feed); errors as for get()."""
        sent = self.headers | dict(headers or {})
        with self._open(urllib.request.Request(self._url(path, query), headers=sent)) as r:
            yield r

    def _url(self, path: str, query: Query | None) -> str:
        given = {k: v for k, v in (query or {}).items() if v is not None}
        return self.url + path + ("?" + urlencode(given) if given else "")

    def _send(
        self,
        method: str,
        path: str,
        query: Query | None,
        data: bytes | None,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        headers = self.headers | dict(headers or {})
        if data is not None:
            headers["Content-Type"] = content_type
        url = self._url(path, query)
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        with self._open(request) as response:
            return Reply(response.status, response.read())

    @contextmanager
    def _open(self, request: urllib.request.Request) -> Iterator[http.client.HTTPResponse]:
        """The response to a request; a refusal becomes a ProblemError, a failure Unreachable."""
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                yield response
        except urllib.error.HTTPError as error:
            with error:
                raise _problem_of(error.code, error.read()) from None
        except urllib.error.URLError as error:
            raise Unreachable(self.url, error.reason) from None
        except (OSError, http.client.HTTPException) as error:
            raise Unreachable(self.url, str(error) or type(error).__name__) from None


def _problem_of(status: int, body: bytes) -> ProblemError:
    try:
        problem = json.loads(body)
    except ValueError:
        problem = None
    if not isinstance(problem, dict):
        text = " ".join(body.decode("utf-8", errors="replace").split())[:200]
        problem = {"title": http.client.responses.get(status, "Error"), "detail": text}
    return ProblemError(status, problem)


def segment(value: str | int) -> str:
    """A path segment, percent-encoded so that no value can change the route."""
    return quote(str(value), safe="")


def env_path(app: str, env: str) -> str:
    return f"/v1/apps/{segment(app)}/envs/{segment(env)}"
