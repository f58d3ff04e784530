"""One HTTP answer as the tests inspect it, whichever client received it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


class Answer:
    """One HTTP answer: status, headers and body (JSON decoded on demand)."""

    def __init__(self, method: str, url: str, status: int, headers: Mapping[str, str], body: bytes):
        self.method, self.url, self.status, self.body = method, url, status, body
        self.headers = {k.lower(): v for k, v in headers.items()}

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip()

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"{self.method} {self.url} → {self.status} {self.body[:600]!r}"

    def problem(self, status: int, field: str | None = None) -> dict[str, Any]:
        """Assert an RFC 9457 problem with this status (and, given ``field``, an ``errors``
        entry naming it); returns the problem."""
        assert self.status == status, self
        assert self.content_type == "application/problem+json", self
        problem: dict[str, Any] = self.json
        for key, kind in (("type", str), ("title", str), ("status", int), ("detail", str)):
            assert isinstance(problem.get(key), kind), (
                f"{key} missing or not {kind.__name__}: {self}"
            )
        assert problem["status"] == status and problem["detail"], self
        if field is not None:
            errors = problem.get("errors")
            assert isinstance(errors, list) and errors, f"no errors[] naming {field!r}: {self}"
            assert all(isinstance(e, dict) and {"field", "message"} <= set(e) for e in errors), self
            named = [str(e["field"]) for e in errors]
            assert any(n == field or n.startswith((f"{field}.", f"{field}[")) for n in named), (
                f"no error names {field!r}: {self}"
            )
        return problem
