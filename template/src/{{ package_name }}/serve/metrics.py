"""Prometheus metrics: one registry per app, filled by an ASGI middleware and the batcher.

Exposed at ``GET /metrics``:
- ``http_request_duration_seconds{route,method}``: latency histogram per route template;
- ``http_requests_in_flight``: requests being handled now;
- ``http_errors_total{route,status}``: responses with status >= 400, by code;
- ``batch_size``: histogram of items per model call;
- ``batch_queue_depth``: inputs waiting for the model.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class ServingMetrics:
    """The metrics of one app (a fresh registry, so several apps in one process never clash)."""

    def __init__(self, max_batch_size: int) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.in_flight = 0
        self._series: dict[tuple[str, str], Any] = {}
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time from request start to the end of the response",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "http_errors",
            "Responses with status >= 400",
            ["route", "status"],
            registry=self.registry,
        )
        self.in_flight_gauge = Gauge(
            "http_requests_in_flight", "Requests being handled now", registry=self.registry
        )
        self.in_flight_gauge.set_function(lambda: self.in_flight)
        self.batch_size = Histogram(
            "batch_size",
            "Inputs per model call",
            buckets=_batch_buckets(max_batch_size),
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "batch_queue_depth", "Inputs waiting for the model", registry=self.registry
        )

    def watch_queue(self, depth: Callable[[], float]) -> None:
        self.queue_depth.set_function(depth)

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """One answered request. The labelled series are kept per (route, method): looking
        them up through ``labels()`` each time cost as much as the observation itself."""
        key = (route, method)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = self.latency.labels(route, method)
        series.observe(seconds)
        if status >= 400:
            self.errors.labels(route, str(status)).inc()


def _batch_buckets(max_batch_size: int) -> tuple[float, ...]:
    buckets, size = [], 1
    while size < max_batch_size:
        buckets.append(float(size))
        size *= 2
    return (*buckets, float(max_batch_size))


class MetricsMiddleware:
    """Pure ASGI middleware (no per-request task, unlike BaseHTTPMiddleware)."""

    def __init__(self, app: ASGIApp, metrics: ServingMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        start = time.perf_counter()

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        metrics = self.metrics
        metrics.in_flight += 1
        try:
            await self.app(scope, receive, send_status)
        finally:
            metrics.in_flight -= 1
            route = getattr(scope.get("route"), "path", "unmatched")
            metrics.observe(route, scope["method"], status, time.perf_counter() - start)
