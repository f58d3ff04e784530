"""Sending runtime reports: once, or again and again until told to stop."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from ledger.reporters.report import RUNTIME_REPORTS, RuntimeReport

log = logging.getLogger("ledger.reporters")


class Poster(Protocol):
    """Anything that posts a JSON body to a path of the ledger and raises when refused."""

    def post(self, path: str, body: Mapping[str, Any]) -> Any: ...


def post_report(poster: Poster, report: RuntimeReport) -> None:
    """Send one report to ``POST /v1/runtime/reports``."""
    poster.post(RUNTIME_REPORTS, report.body())


def repeat(every: float, once: Callable[[], None], stop: threading.Event) -> None:
    """Call ``once`` now and then every ``every`` seconds until ``stop`` is set. A failed round
    is logged and the next one tried: a reporter outlives a ledger that restarts."""
    while not stop.is_set():
        try:
            once()
        except Exception as error:
            log.error("report failed", extra={"error": _one_line(error)})
        stop.wait(every)


def _one_line(error: Exception) -> str:
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    return " ".join(str(message).split())
