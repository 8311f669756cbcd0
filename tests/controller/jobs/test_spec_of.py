"""Tests of spec_of and plan_of: a stored job's spec and plan are decoded once per job, in a bounded cache."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from controller.core.ids import new_id
from controller.jobs.kinds import plan_job
from controller.jobs.spec import parse_job_spec, plan_of, spec_of, spec_to_json


@dataclass
class StoredJob:
    """What spec_of reads of a Job row: its id and stored spec."""

    id: str
    spec: dict[str, Any]


def stored(body: dict[str, Any]) -> StoredJob:
    return StoredJob(new_id("job"), spec_to_json(parse_job_spec(body)))


SWEEP = {"project": "demo", "type": "sweep", "parameters": {"lr": [0.1, 0.01]}, "max_retries": 2}


def test_spec_of_a_stored_job_is_the_submitted_spec() -> None:
    # Given a stored sweep, When its spec is read, Then it is the spec that was submitted
    assert spec_of(stored(SWEEP)) == parse_job_spec(SWEEP)


def test_spec_of_decodes_a_job_once() -> None:
    # Given a stored job whose spec was read once
    job = stored(SWEEP)
    first = spec_of(job)

    # When its stored form is swapped out (which never happens after submit) and it is read again
    job.spec = spec_to_json(parse_job_spec({"project": "other"}))

    # Then the first decoding is returned, not a new one
    assert spec_of(job) is first


def test_plan_of_plans_a_job_once_from_its_spec() -> None:
    # Given a stored sweep, When its plan is read twice, Then it is the plan of its spec, made once
    job = stored(SWEEP)
    assert plan_of(job) == plan_job(parse_job_spec(SWEEP))
    assert plan_of(job) is plan_of(job)


def test_the_spec_cache_is_bounded() -> None:
    # Given a job read once, then more other jobs than the cache holds
    job = stored(SWEEP)
    first = spec_of(job)
    for _ in range(1025):
        spec_of(stored({"project": "demo"}))

    # When the first job is read again, Then it is decoded anew (an equal spec, not the cached object)
    again = spec_of(job)
    assert again == first and again is not first
