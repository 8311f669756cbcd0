"""Queue and actor names shared by the controller and the agents."""

#: Hardware profiles an agent can serve; each has its own task queues.
PROFILES = ("cpu", "gpu")

#: Job priorities, highest first.
PRIORITIES = ("high", "normal", "low")

#: Queue the agents report task results on; only the controller consumes it.
RESULTS_QUEUE = "computalot.results"

#: Actor the agents implement: run one task attempt.
RUN_TASK = "computalot.run_task"

#: Actor the controller implements: apply one task result.
APPLY_RESULT = "computalot.apply_result"


def task_queue(profile: str, priority: str = "normal") -> str:
    """Name of the queue carrying `profile` tasks of `priority`."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; use one of {', '.join(PROFILES)}")
    if priority not in PRIORITIES:
        raise ValueError(f"unknown priority {priority!r}; use one of {', '.join(PRIORITIES)}")
    return f"computalot.tasks.{profile}.{priority}"


def task_queues(profiles: tuple[str, ...] | list[str] = PROFILES) -> list[str]:
    """Every task queue of the given profiles, highest priority first."""
    return [task_queue(profile, priority) for profile in profiles for priority in PRIORITIES]
