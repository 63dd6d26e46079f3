"""/healthz's verdict and the figures behind /metrics (no network)."""

from __future__ import annotations

from bot.health import Probe, _Collector
from bot.metrics import Histogram, Stats


def probe(**changes: object) -> Probe:
    values: dict[str, object] = {
        "role": "active",
        "ready": True,
        "sync_age": 3.0,
        "outbox_backlog": 0,
        "database_seconds": 0.001,
        "scheduled_jobs": 4,
        "takeovers": 1,
    }
    values.update(changes)
    return Probe(**values)  # type: ignore[arg-type]


def test_healthy_in_its_role_and_not_otherwise() -> None:
    assert probe().healthy
    assert probe(role="standby", ready=False, sync_age=None, database_seconds=None).healthy
    assert not probe(role="standby", ready=False, database_reachable=False).healthy
    assert not probe(role="starting", ready=False).healthy
    assert not probe(ready=False).healthy
    assert not probe(sync_age=200.0).healthy  # no sync for minutes
    assert not probe(database_seconds=None).healthy  # the database did not answer
    body = probe().as_json()
    assert body["status"] == "ok" and body["role"] == "active" and body["database_latency_ms"] == 1.0


def test_histogram_buckets_are_cumulative_and_inclusive() -> None:
    h = Histogram((0.1, 1.0))
    for value in (0.05, 0.1, 0.5, 7.0):
        h.observe(value)
    assert h.cumulative() == [("0.1", 2), ("1.0", 3), ("+Inf", 4)]
    assert h.n == 4 and abs(h.total - 7.65) < 1e-9


def test_the_collector_exposes_commands_by_outcome() -> None:
    from prometheus_client import CollectorRegistry, generate_latest

    stats = Stats()
    stats.handled("m.room.message", "ping", "ok", 0.01, 0)
    stats.handled("m.room.message", "signal retenir", "refused", 0.02, 0)
    collector = _Collector(stats)
    collector.last = probe()
    registry = CollectorRegistry()
    registry.register(collector)
    text = generate_latest(registry).decode()
    assert 'oasis_commands_total{command="ping",outcome="ok"} 1.0' in text
    assert 'oasis_commands_total{command="signal retenir",outcome="refused"} 1.0' in text
    assert "oasis_outbox_pending 0.0" in text and "oasis_active 1.0" in text
