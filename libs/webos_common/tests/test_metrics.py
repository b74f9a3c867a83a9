"""/metrics shows the bus and the task queue: published, handled, retried,
dead-lettered events and finished tasks, from real NATS traffic."""

from __future__ import annotations

import asyncio
import uuid

import nats

from webos_common.bus import BusSettings, EventBus
from webos_common.bus.envelope import EventEnvelope
from webos_common.observability.metrics import HttpMetrics
from webos_common.tasks import run_bg, task, wait
from webos_common.tasks.worker import running_worker


@task
async def metered(x: int) -> int:
    return x * 2


def _sample(text: str, prefix: str) -> float:
    line = next((ln for ln in text.splitlines() if ln.startswith(prefix)), None)
    return float(line.rsplit(" ", 1)[1]) if line else 0.0


async def test_bus_and_task_counters_follow_real_traffic(nats_url: str) -> None:
    entity = f"m{uuid.uuid4().hex[:10]}"
    nc = await nats.connect(nats_url)
    bus = EventBus(nc, service=f"svc{entity}", settings=BusSettings(backoff=[0.01], max_deliver=2))
    async def good(event: EventEnvelope) -> None:
        return None

    async def bad(event: EventEnvelope) -> None:
        raise RuntimeError("always fails")

    bus.subscribe(f"{entity}:good", good, name="good")
    bus.subscribe(f"{entity}:bad", bad, name="bad")
    await bus.start()
    try:
        await bus.emit(f"{entity}:good", {"n": 1})
        await bus.emit(f"{entity}:good", {"n": 2})
        await bus.emit(f"{entity}:bad", {"last": True})
        async with running_worker(nats_url):
            record = await wait((await run_bg(metered, 21)).task_id, timeout=15)
        assert record.state.value == "succeeded"
        text = ""
        for _ in range(100):
            text = HttpMetrics("probe").render().decode()
            if _sample(text, f'webos_events_consumed_total{{handler="svc{entity}--bad",outcome="dead_lettered"}}'):
                break
            await asyncio.sleep(0.05)
    finally:
        await bus.close()
        await nc.close()
    assert _sample(text, f'webos_events_published_total{{topic="{entity}:good"}}') == 2
    assert _sample(text, f'webos_events_consumed_total{{handler="svc{entity}--good",outcome="ok"}}') == 2
    assert _sample(text, f'webos_events_consumed_total{{handler="svc{entity}--bad",outcome="retried"}}') == 1
    assert _sample(text, f'webos_events_consumed_total{{handler="svc{entity}--bad",outcome="dead_lettered"}}') == 1
    task_name = next(ln for ln in text.splitlines() if ln.startswith("webos_tasks_total") and "metered" in ln)
    assert 'state="succeeded"' in task_name and float(task_name.rsplit(" ", 1)[1]) >= 1
    assert any(ln.startswith("webos_task_duration_seconds_count") and "metered" in ln for ln in text.splitlines())
