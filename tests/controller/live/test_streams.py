"""SSE streams and the ZeroMQ publisher against an in-process controller, with events written straight to the log."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import msgpack
import pytest
import zmq
import zmq.asyncio
from computalot import StreamEvent
from computalot.streams import SSEParser

from controller.accounts.auth import create_account, issue_key
from controller.accounts.models import Account
from controller.app import create_app
from controller.core.ids import new_id
from controller.core.settings import Settings
from controller.core.web import STORE
from controller.jobs.models import Job
from controller.jobs.records import record
from controller.live import feed as feed_module
from controller.live.models import Event
from controller.projects.models import Project


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path) -> Any:
    return await aiohttp_client(create_app(Settings(data_dir=tmp_path, sse_heartbeat_s=0.3)))


async def write(client: Any, fn: Any, *args: Any) -> Any:
    return await client.app[STORE].write(fn, *args)


async def new_account(client: Any, role: str = "member") -> tuple[Account, dict[str, str]]:
    def make() -> tuple[Account, str]:
        account = create_account(f"acct-{new_id('x', 3)}", role)
        return account, issue_key(account)

    account, token = await write(client, make)
    return account, {"Authorization": f"Bearer {token}"}


async def new_job(client: Any, account: Account, project: Project | None = None, status: str = "running") -> Job:
    def make() -> Job:
        job = Job.create(
            id=new_id("job"),
            account=account,
            project=project,
            status=status,
            spec={},
            task_count=1,
            created_at=time.time(),
        )
        record(job, "status", {"status": status})
        return job

    return await write(client, make)


async def add_events(client: Any, job: Job, *kinds: str) -> None:
    def make() -> None:
        for i, kind in enumerate(kinds):
            record(job, kind, {"i": i})

    await write(client, make)


async def finish(client: Any, job: Job, status: str = "completed") -> None:
    def make() -> None:
        job.status, job.finished_at = status, time.time()
        job.save()
        record(job, "status", {"status": status})
        record(job, "result", {"job_id": job.id, "status": status, "summary": {}})

    await write(client, make)


class Reader:
    """Reads SSE events (and heartbeat comments) off an open aiohttp response."""

    def __init__(self, response: Any) -> None:
        self.response = response
        self.parser = SSEParser()
        self.comments: list[str] = []

    async def next(self, timeout_s: float = 10) -> StreamEvent | None:
        """The next event, or None when the stream ended."""
        while True:
            async with asyncio.timeout(timeout_s):
                raw = await self.response.content.readline()
            if not raw:
                return None
            line = raw.decode().rstrip("\n")
            if line.startswith(":"):
                self.comments.append(line)
            event = self.parser.feed(line)
            if event is not None:
                return event

    async def until_end(self, timeout_s: float = 10) -> list[StreamEvent]:
        events = []
        while (event := await self.next(timeout_s)) is not None:
            events.append(event)
            if event.event == "end":
                break
        return events


async def test_a_job_stream_sends_each_event_with_its_sequence_and_ends_after_the_result(client: Any) -> None:
    # Given a running job with one event so far
    account, headers = await new_account(client)
    job = await new_job(client, account)

    # When its stream is open and the job progresses, then finishes
    response = await client.get(f"/api/v1/jobs/{job.id}/stream", headers=headers)
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/event-stream"
    reader = Reader(response)
    first = await reader.next()
    await add_events(client, job, "task", "progress", "output")
    await finish(client, job)
    rest = await reader.until_end()

    # Then every event came once, in sequence order, with its id and kind, and `end` closed the stream
    events = [first, *rest]
    assert [e.event for e in events] == ["status", "task", "progress", "output", "status", "result", "end"]
    ids = [e.id for e in events[:-1]]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(e.data["seq"] == e.id and e.data["job_id"] == job.id for e in events[:-1])
    assert events[-1].id is None and events[-1].data == {"job_id": job.id, "status": "completed"}
    assert await reader.next() is None


async def test_an_idle_stream_sends_comment_heartbeats(client: Any) -> None:
    # Given a job with nothing happening
    account, headers = await new_account(client)
    job = await new_job(client, account)
    response = await client.get(f"/api/v1/jobs/{job.id}/stream", headers=headers)
    reader = Reader(response)
    await reader.next()

    # When the stream stays idle past the heartbeat interval (0.3 s in these settings)
    started = time.monotonic()
    raw = await response.content.readline()

    # Then a comment line keeps the connection alive, and no event was invented
    assert raw.startswith(b":")
    assert time.monotonic() - started >= 0.2
    response.close()


async def test_last_event_id_resumes_after_that_event_and_the_header_wins_over_the_query(client: Any) -> None:
    # Given a finished job with a few events
    account, headers = await new_account(client)
    job = await new_job(client, account)
    await add_events(client, job, "task", "progress", "task")
    await finish(client, job)
    everything = await Reader(await client.get(f"/api/v1/jobs/{job.id}/stream", headers=headers)).until_end()
    cut = everything[2].id

    # When it is opened again after the third event, by header and by query parameter
    by_header = await client.get(f"/api/v1/jobs/{job.id}/stream", headers={**headers, "Last-Event-ID": str(cut)})
    by_query = await client.get(f"/api/v1/jobs/{job.id}/stream?last_event_id={cut}", headers=headers)
    both = await client.get(
        f"/api/v1/jobs/{job.id}/stream?last_event_id=0", headers={**headers, "Last-Event-ID": str(cut)}
    )

    # Then each replays exactly the events after it, then ends
    expected = [e.id for e in everything[3:]]
    for response in (by_header, by_query, both):
        assert [e.id for e in await Reader(response).until_end()] == expected


async def test_a_malformed_last_event_id_answers_422(client: Any) -> None:
    account, headers = await new_account(client)
    job = await new_job(client, account)
    response = await client.get(f"/api/v1/jobs/{job.id}/stream", headers={**headers, "Last-Event-ID": "soon"})
    assert response.status == 422
    assert (await response.json())["error"]["code"] == "validation_failed"


@pytest.mark.parametrize("value", [str(2**63), "99999999999999999999", "-1"])
async def test_a_last_event_id_outside_the_databases_integers_answers_422_before_the_stream_starts(
    client: Any, value: str
) -> None:
    # Given a job of the caller
    account, headers = await new_account(client)
    job = await new_job(client, account)
    # When its stream is opened with an event id no 64-bit integer holds (or a negative one), by header or query
    by_header = await client.get(f"/api/v1/jobs/{job.id}/stream", headers={**headers, "Last-Event-ID": value})
    by_query = await client.get(f"/api/v1/jobs/{job.id}/stream?last_event_id={value}", headers=headers)
    # Then each answers 422 with the envelope instead of a 200 that breaks off
    for response in (by_header, by_query):
        assert response.status == 422
        assert (await response.json())["error"]["details"]["fields"][0]["field"] == "Last-Event-ID"


async def test_another_accounts_job_stream_answers_404(client: Any) -> None:
    owner, _ = await new_account(client)
    _, stranger = await new_account(client)
    job = await new_job(client, owner)
    response = await client.get(f"/api/v1/jobs/{job.id}/stream", headers=stranger)
    assert response.status == 404


async def test_a_slow_stream_that_overflows_catches_up_from_the_log(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given subscriptions that hold only two events
    monkeypatch.setattr(feed_module, "SUBSCRIPTION_CAPACITY", 2)
    account, headers = await new_account(client)
    job = await new_job(client, account)
    reader = Reader(await client.get(f"/api/v1/jobs/{job.id}/stream", headers=headers))
    await reader.next()

    # When 50 events commit at once
    await add_events(client, job, *["progress"] * 50)
    await finish(client, job)

    # Then all of them arrive, in order, none twice
    events = await reader.until_end()
    assert [e.data["data"].get("i") for e in events if e.event == "progress"] == list(range(50))


async def test_watch_follows_several_jobs_and_ends_when_all_ended(client: Any) -> None:
    # Given two running jobs
    account, headers = await new_account(client)
    first, second = await new_job(client, account), await new_job(client, account)
    reader = Reader(await client.get(f"/api/v1/jobs/watch?ids={first.id},{second.id}", headers=headers))

    # When one finishes, the other progresses, then finishes too
    await finish(client, first)
    await add_events(client, second, "progress")
    await finish(client, second, "failed")
    events = await reader.until_end()

    # Then events of both came, each naming its job, and the end maps each job to its status
    assert {e.job_id for e in events[:-1]} == {first.id, second.id}
    assert [e.event for e in events if e.job_id == second.id] == ["status", "progress", "status", "result"]
    assert events[-1].event == "end"
    assert events[-1].data == {"jobs": {first.id: "completed", second.id: "failed"}}


@pytest.mark.parametrize(
    ("ids", "status"),
    [("", 422), (",".join(f"job_{i}" for i in range(101)), 422), ("job_nope", 404)],
)
async def test_watch_refuses_no_ids_more_than_100_and_unknown_ones(client: Any, ids: str, status: int) -> None:
    _, headers = await new_account(client)
    response = await client.get(f"/api/v1/jobs/watch?ids={ids}", headers=headers)
    assert response.status == status


async def test_watch_answers_404_for_another_accounts_job_among_its_own(client: Any) -> None:
    owner, headers = await new_account(client)
    stranger, _ = await new_account(client)
    mine, theirs = await new_job(client, owner), await new_job(client, stranger)
    response = await client.get(f"/api/v1/jobs/watch?ids={mine.id},{theirs.id}", headers=headers)
    assert response.status == 404
    assert (await response.json())["error"]["details"]["missing"] == [theirs.id]


async def test_a_project_stream_shows_pushes_and_job_status_but_not_progress(client: Any) -> None:
    # Given a project with a running job
    account, headers = await new_account(client)

    def make_project() -> Project:
        now = time.time()
        return Project.create(id=new_id("prj"), account=account, name="demo", created_at=now, updated_at=now)

    project = await write(client, make_project)
    job = await new_job(client, account, project)
    reader = Reader(await client.get("/api/v1/projects/demo/stream", headers=headers))

    # When the job progresses, the project gets a push, and the job finishes
    await add_events(client, job, "task", "progress", "output")

    def push() -> None:
        Event.create(account=account, project=project, kind="push", data={"revision": 2}, created_at=time.time())

    await write(client, push)
    await finish(client, job)
    events = [await reader.next() for _ in range(4)]

    # Then the stream shows the push and the job's status and result events, not its task, progress or output
    assert [e.event for e in events] == ["status", "push", "status", "result"]
    assert events[1].job_id is None and events[1].data["data"] == {"revision": 2}
    reader.response.close()


async def test_the_zeromq_publisher_sends_every_event_under_its_account_and_job_topic(client: Any) -> None:
    # Given a subscriber to one account's topic, connected before anything happens
    account, headers = await new_account(client)
    other, _ = await new_account(client)
    info = await (await client.get("/api/v1/account/stream-endpoint", headers=headers)).json()
    assert info["account_id"] == account.id and info["topic"] == f"{account.id}/"
    assert info["endpoint"].startswith("tcp://127.0.0.1:")
    ctx = zmq.asyncio.Context()
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, info["topic"].encode())
    sub.connect(info["endpoint"])
    try:
        # (a subscription reaches the publisher a moment after connecting: send probes until one arrives)
        probe = await new_job(client, account)
        for _ in range(100):
            await add_events(client, probe, "progress")
            if await sub.poll(50):
                break
        while await sub.poll(200):
            await sub.recv_multipart()

        # When a job of the account and one of another account produce events
        job = await new_job(client, account)
        await new_job(client, other)
        await add_events(client, job, "task", "progress", "output")
        await finish(client, job)

        # Then the subscriber got exactly this account's job events, in sequence order, with their topic
        received = []
        while len(received) < 6:
            topic, body = await asyncio.wait_for(sub.recv_multipart(), 10)
            received.append((topic, msgpack.unpackb(body, raw=False)))
        assert {t for t, _ in received} == {f"{account.id}/{job.id}".encode()}
        messages = [m for _, m in received]
        assert [m["kind"] for m in messages] == ["status", "task", "progress", "output", "status", "result"]
        assert [m["seq"] for m in messages] == sorted(m["seq"] for m in messages)
        assert set(messages[0]) == {"seq", "kind", "job_id", "data", "created_at"}
    finally:
        sub.close(linger=0)
        ctx.term()


async def test_readiness_reports_each_check(client: Any) -> None:
    response = await client.get("/ready")
    body = await response.json()
    assert response.status == 200
    assert body["checks"] == {"database": True, "broker": True, "event_hub": True}
    assert body["live_agents"] == 0
