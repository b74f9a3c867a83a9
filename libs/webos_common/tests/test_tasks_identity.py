"""Who a task acts for is proven, not claimed (real NATS, the real work queue): the worker runs a
task for a person only on a bus token auth issued for that person to the principal that queued it."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import nats
import pytest
from taskiq import TaskiqMessage

from webos_common import context
from webos_common.bus.identity import AUDIENCE, BusIdentity
from webos_common.identity import User
from webos_common.security.jwks import StaticJWKS
from webos_common.security.testing import TestIssuer
from webos_common.security.verifier import TokenVerifier
from webos_common.tasks import TaskState, broker, task, wait
from webos_common.tasks.broker import SUBJECT
from webos_common.tasks.middleware import CONTEXT_LABEL, IDENTITY_LABEL
from webos_common.tasks.worker import running_worker

ISSUER = TestIssuer(audience=AUDIENCE)  # stands for auth
PRINCIPAL = "tasks-worker"  # in this process the worker also queues the tasks
RAN: list[str] = []


@task
async def whoami_checked(tag: str) -> dict[str, object]:
    RAN.append(tag)
    user = context.current_user.get()
    return {"user": user.id if user else None, "roles": list(user.roles) if user else []}


def bus_token(user_id: str, azp: str, roles: tuple[str, ...] = ("user",)) -> str:
    return ISSUER.token(user_id, roles=roles, typ="bus", azp=azp, expires_in=300)


@pytest.fixture
async def worker(nats_url: str) -> AsyncIterator[list[str]]:
    exchanged: list[str] = []
    token = bus_token("alice", PRINCIPAL)

    async def exchange(credential: str) -> str:  # auth: the person's credential -> a bus token for us
        exchanged.append(credential)
        return token

    verifier = TokenVerifier(StaticJWKS(ISSUER.jwks), issuer=ISSUER.issuer, audience=AUDIENCE, leeway=60)
    identity = BusIdentity(exchange=exchange, verifier=verifier, required=True)
    async with running_worker(nats_url, identity=identity, principal=PRINCIPAL, schedules=False):
        yield exchanged


async def test_a_task_runs_as_the_person_its_token_proves_not_as_its_label_claims(worker: list[str]) -> None:
    claimed = User(id="alice", roles=("superadmin",), permissions=("*",))  # more than alice has
    with context.use({"user": claimed.model_dump(mode="json")}):
        context.credential.set("alices-access-token")
        try:
            handle = await whoami_checked.kiq("signed")
        finally:
            context.credential.set(None)
    record = await wait(handle.task_id, timeout=20)
    assert record.state is TaskState.succeeded
    assert record.result == {"user": "alice", "roles": ["user"]}  # the token's word, not the label's
    # queued with alice's own credential; the worker signs the task's status events from the token it
    # proved (exchanged again, for itself), never from anything the message merely claims
    assert worker[0] == "alices-access-token"
    assert len(set(worker)) == 2 and worker[-1] != "alices-access-token"


async def test_without_the_persons_credential_the_task_runs_as_nobody(worker: list[str]) -> None:
    with context.use({"user": User(id="alice", roles=("superadmin",)).model_dump(mode="json")}):
        handle = await whoami_checked.kiq("unsigned")
    record = await wait(handle.task_id, timeout=20)
    assert record.state is TaskState.succeeded and record.result == {"user": None, "roles": []}
    assert record.user_id is None and worker == []


@pytest.mark.parametrize("case", ["missing", "other_person", "other_principal", "foreign_key"])
async def test_a_forged_task_is_refused_before_it_runs(worker: list[str], nats_url: str, case: str) -> None:
    tokens = {
        "missing": None,
        "other_person": bus_token("mallory", PRINCIPAL),
        "other_principal": bus_token("alice", "tasks"),  # issued to a module, replayed under our subject
        "foreign_key": TestIssuer(audience=AUDIENCE).token("alice", typ="bus", azp=PRINCIPAL),
    }
    tag = f"forged-{case}-{uuid.uuid4().hex[:6]}"
    snapshot = {"user": User(id="alice", roles=("superadmin",), permissions=("*",)).model_dump(mode="json")}
    labels = {CONTEXT_LABEL: json.dumps(snapshot)}
    if tokens[case]:
        labels[IDENTITY_LABEL] = tokens[case]
    message = TaskiqMessage(task_id=uuid.uuid4().hex, task_name=whoami_checked.task_name, labels=labels,
                            args=[tag], kwargs={})
    nc = await nats.connect(nats_url)
    try:  # straight onto the queue, as a rogue client with publish rights on the subject would
        await nc.jetstream().publish(f"{SUBJECT}.{PRINCIPAL}", broker.formatter.dumps(message).message)
    finally:
        await nc.close()
    record = await wait(message.task_id, timeout=20)
    assert record.state is TaskState.failed and record.error and record.error.startswith("identity refused")
    assert tag not in RAN
