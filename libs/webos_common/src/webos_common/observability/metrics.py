"""Prometheus metrics, one registry per app so tests can build many apps."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

from prometheus_client import CollectorRegistry, Counter, Histogram, Info, ProcessCollector, generate_latest

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


# Process-wide metrics of the bus and the task queue (one process may host several
# apps in tests, but it has one bus client and one worker). Every /metrics shows them.
PROCESS = CollectorRegistry()
EVENTS_PUBLISHED = Counter("webos_events_published_total", "Events published", ["topic"], registry=PROCESS)
EVENTS_CONSUMED = Counter(
    "webos_events_consumed_total", "Events handled, by outcome (ok, retried, dead_lettered)",
    ["handler", "outcome"], registry=PROCESS,
)
EVENT_HANDLER_SECONDS = Histogram(
    "webos_event_handler_duration_seconds", "Event handler run time", ["handler"],
    buckets=LATENCY_BUCKETS, registry=PROCESS,
)
OUTBOX_REFUSED = Counter(
    "webos_outbox_refused_total", "Outbox events NATS refused (no permission), set aside as refused",
    ["service", "topic"], registry=PROCESS,
)
_published_children: dict[str, Counter] = {}

# Every process: its CPU, memory, open files and start time (`process_*`), and what runs
# (`webos_build_info{version, python}`), for the dashboards and the alert rules.
ProcessCollector(registry=PROCESS)
BUILD = Info("webos_build", "The running build", registry=PROCESS)


def _version() -> str:
    try:
        return version("webos-common")
    except PackageNotFoundError:
        return "unknown"


BUILD.info({"version": _version(), "python": platform.python_version()})


def event_published(topic: str) -> None:
    """Count one published event (the labelled child is cached: this is on the bus's hot path)."""
    child = _published_children.get(topic)
    if child is None:
        child = _published_children[topic] = EVENTS_PUBLISHED.labels(topic)
    child.inc()


def outbox_refused(service: str, topic: str) -> None:
    """Count one outbox row set aside because NATS refused its subject."""
    OUTBOX_REFUSED.labels(service, topic).inc()


TASKS_FINISHED = Counter("webos_tasks_total", "Tasks finished, by final state", ["task", "state"], registry=PROCESS)
TASK_SECONDS = Histogram(
    "webos_task_duration_seconds", "Task run time", ["task"], buckets=(*LATENCY_BUCKETS, 30, 60, 300),
    registry=PROCESS,
)


class HttpMetrics:
    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        self.service = service
        self.requests = Counter(
            "webos_http_requests_total", "HTTP requests", ["service", "method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "webos_http_request_duration_seconds", "HTTP request latency", ["service", "method", "route"],
            buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        # the labelled children are cached (as `event_published` does): every request passes here
        children = self._children.get((method, route, status))
        if children is None:
            children = self._children[(method, route, status)] = (
                self.requests.labels(self.service, method, route, str(status)),
                self.latency.labels(self.service, method, route))
        children[0].inc()
        children[1].observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry) + generate_latest(PROCESS)
