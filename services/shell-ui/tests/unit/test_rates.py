from webos_shell.admin.rates import parse, rates

METRICS = """# HELP webos_gateway_requests_total Proxied requests
# TYPE webos_gateway_requests_total counter
webos_gateway_requests_total{method="GET",route="/api/tasks",status="200"} 90.0
webos_gateway_requests_total{method="POST",route="/api/tasks",status="201"} 10.0
webos_gateway_requests_total{method="GET",route="/api/auth",status="401"} 5.0
webos_gateway_requests_total{method="GET",route="/api/storage",status="502"} 2.0
webos_gateway_requests_created{method="GET",route="/api/tasks",status="200"} 1.7e+09
webos_http_requests_total{method="GET",route="/healthz",service="gateway",status="200"} 999.0
"""


def test_parse_counts_gateway_requests_by_status_class() -> None:
    totals = parse(METRICS, at=10.0)
    assert totals.by_class == {"2xx": 100.0, "4xx": 5.0, "5xx": 2.0}
    assert (totals.total, totals.errors) == (107.0, 2.0)


def test_rates_between_two_samples() -> None:
    before = parse(METRICS, at=10.0)
    later = parse(METRICS.replace("} 90.0", "} 130.0").replace("} 2.0", "} 4.0"), at=20.0)
    assert rates(before, later) == (4.2, 0.2)
    assert rates(None, later) is None
    assert rates(later, before) is None  # time went back / counters reset
