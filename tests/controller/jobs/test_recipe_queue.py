"""Where a submitted job names its queue: recipe jobs in `queue_key`, project jobs in `profile` (a preset)."""

from __future__ import annotations

import time

from broker.messages import AgentHeartbeat, Capabilities
from controller.agents.roster import ROSTER
from controller.jobs.dispatcher import job_queue
from controller.jobs.models import Job
from recipes.packing.baselines import GRID_BASELINE
from tests.controller.api_support import Api


async def test_a_recipe_job_keeps_its_queue_key_in_its_own_column_and_no_preset(api: Api) -> None:
    # Given a live agent offering the packing recipe, and a funded member
    beat = AgentHeartbeat(agent_id="a1", capabilities=Capabilities(recipes=("packing",)))
    api.app[ROSTER].update(beat, now=time.monotonic())
    token = await api.token(credit_micro=10_000_000)
    # When a packing job is submitted
    body = {"recipe": "packing", "payload": {"operation": "eval", "candidate": list(GRID_BASELINE)}}
    status, submitted, _ = await api.call("POST", "/api/v1/jobs", token, json=body)
    # Then its row names the recipe queue in queue_key, profile holds no preset, and its tasks go to that queue
    assert status == 201, submitted
    job = Job.get_by_id(submitted["id"])
    assert (job.queue_key, job.profile) == ("packing", "")
    assert job_queue(job) == "computalot.recipes.packing.normal"
