"""What a job costs per task-hour, and the most it can cost (its hold)."""

from __future__ import annotations

from dataclasses import dataclass

from controller.billing import ledger
from controller.jobs import presets
from controller.jobs.kinds import kind_of
from controller.jobs.planning import Plan
from controller.jobs.spec import JobSpec


@dataclass(frozen=True)
class Price:
    """A job's rate and its hold, in micro-dollars."""

    rate_micro_per_hour: int
    hold_micro: int


def rate_micro_per_hour(spec: JobSpec) -> int:
    """The recipe's own rate for a recipe job, else the rate of the preset its requirements resolve to."""
    if spec.recipe is not None:
        from recipes import registry  # loads every recipe module: only for recipe jobs

        recipe = registry().get(spec.recipe)
        if recipe is not None:
            return recipe.micro_usd_per_hour
    return presets.resolve(spec.requirements).micro_usd_per_hour


def billable_tasks(spec: JobSpec, plan: Plan) -> int:
    """Tasks the job can run, as its kind counts them (the planned ones, plus a reduce task if it has one)."""
    return kind_of(spec.type).billable_tasks(spec, plan)


def price(spec: JobSpec, plan: Plan) -> Price:
    """The job's rate and hold: tasks × timeout_s × rate × (1 + max_retries)."""
    rate = rate_micro_per_hour(spec)
    return Price(rate, ledger.hold_micro(billable_tasks(spec, plan), spec.timeout_s, rate, spec.max_retries))
