"""A job whose task message cannot be built or sent is failed on its own; the rest of the batch is dispatched."""

from __future__ import annotations

import time

from broker.messages import AgentHeartbeat, Capabilities
from controller.agents.roster import ROSTER
from controller.billing.models import Hold
from controller.jobs.dispatcher import DISPATCHER
from controller.jobs.models import Job, Task
from controller.live.models import Event
from recipes.packing.baselines import GRID_BASELINE
from tests.controller.api_support import Api

PACKING_EVAL = {"recipe": "packing", "payload": {"operation": "eval", "candidate": list(GRID_BASELINE)}}


async def submit_two_jobs(api: Api) -> tuple[str, str, str]:
    """(token, first job id, second job id): two packing evals, with a live agent offering the recipe."""
    beat = AgentHeartbeat(agent_id="a1", capabilities=Capabilities(recipes=("packing",)))
    api.app[ROSTER].update(beat, now=time.monotonic())
    token = await api.token(credit_micro=10_000_000)
    ids = []
    for _ in range(2):
        status, job, _ = await api.call("POST", "/api/v1/jobs", token, json=PACKING_EVAL)
        assert status == 201, job
        ids.append(job["id"])
    return token, ids[0], ids[1]


def poison(job_id: str) -> None:
    """Give the job's task a payload msgpack cannot encode, as a job stored before the submit checks could have."""
    Task.update(payload={"operation": "eval", "n": 2**70}).where(Task.job == job_id).execute()


async def test_a_job_whose_message_cannot_be_encoded_fails_alone_and_the_next_job_is_dispatched(api: Api) -> None:
    # Given two queued jobs, the older one holding a payload that cannot be encoded into a task message
    token, bad, good = await submit_two_jobs(api)
    await api.write(poison, bad)

    # When the dispatcher runs one pass
    await api.app[DISPATCHER].dispatch_once()

    # Then the other job's task was sent in that same pass
    assert [t.enqueued for t in Task.select().where(Task.job == good)] == [True]
    # And the bad job failed on its own with dispatch_failed and a recommended action, its task cancelled
    status, job, _ = await api.call("GET", f"/api/v1/jobs/{bad}", token)
    assert (status, job["status"], job["error_code"]) == (200, "failed", "dispatch_failed"), job
    assert "could not be sent" in job["error"] and "_artifacts.download" in job["recommended_action"]
    assert [t.status for t in Task.select().where(Task.job == bad)] == ["cancelled"]
    # And its hold was settled exactly once (the good job's stays active), its result event recorded
    holds = {h.job_id: h.status for h in Hold.select()}
    assert holds == {bad: "settled", good: "active"}
    assert Event.select().where(Event.job == bad, Event.kind == "result").count() == 1
    assert Job.get_by_id(bad).dispatch_pending is False


async def test_a_quarantined_job_is_not_tried_again_on_the_next_pass(api: Api) -> None:
    # Given a poisoned job failed by one dispatch pass
    _, bad, good = await submit_two_jobs(api)
    await api.write(poison, bad)
    await api.app[DISPATCHER].dispatch_once()

    # When the dispatcher runs again
    sent = await api.app[DISPATCHER].dispatch_once()

    # Then there is nothing left to send: neither job blocks the queue, and the failed one stays failed
    assert sent == 0
    assert (Job.get_by_id(bad).status, Job.get_by_id(good).status) == ("failed", "queued")
