"""Request and error rates from the gateway's Prometheus `/metrics`.

Every request enters through the gateway, so its counters are the
platform's traffic. Two samples taken some seconds apart give rates; the
shell keeps the previous sample per process."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

_SAMPLE = re.compile(r"^webos_gateway_requests_total\{(?P<labels>[^}]*)\} (?P<value>\S+)$", re.M)
_STATUS = re.compile(r'status="(\d)\d\d"')


@dataclass(frozen=True)
class Totals:
    at: float
    by_class: dict[str, float]  # "2xx" -> requests since the gateway started

    @property
    def total(self) -> float:
        return sum(self.by_class.values())

    @property
    def errors(self) -> float:
        return self.by_class.get("5xx", 0.0)


def parse(text: str, at: float | None = None) -> Totals:
    by_class: dict[str, float] = {}
    for match in _SAMPLE.finditer(text):
        status = _STATUS.search(match["labels"])
        key = f"{status[1]}xx" if status else "other"
        by_class[key] = by_class.get(key, 0.0) + float(match["value"])
    return Totals(time.monotonic() if at is None else at, by_class)


def rates(before: Totals | None, now: Totals) -> tuple[float, float] | None:
    """(requests/s, 5xx errors/s) between two samples; None without an earlier one
    (or when the gateway restarted in between and its counters went back)."""
    if before is None or now.at <= before.at or now.total < before.total:
        return None
    seconds = now.at - before.at
    return (now.total - before.total) / seconds, (now.errors - before.errors) / seconds
