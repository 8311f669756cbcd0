"""Queue and actor names shared by the controller and the agents, and the capacity classes queues exist for."""

from __future__ import annotations

from dataclasses import dataclass

from broker.messages import Capabilities

#: Job priorities, highest first.
PRIORITIES = ("high", "normal", "low")

#: Dramatiq actor priority per job priority: an agent's local work queue runs lower numbers first,
#: so high-priority tasks it has fetched start before normal and low ones it fetched earlier.
ACTOR_PRIORITY = {"high": 0, "normal": 10, "low": 20}

#: Queue the agents report task results on; only the controller consumes it.
RESULTS_QUEUE = "computalot.results"

#: Prefix of the actors the agents implement (one per priority): run one task attempt.
RUN_TASK = "computalot.run_task"

#: Actor the controller implements: apply one task result.
APPLY_RESULT = "computalot.apply_result"


@dataclass(frozen=True)
class Size:
    """The minimums a capacity class (preset) guarantees each of its tasks."""

    profile: str
    cpu: int
    memory_mb: int
    gpu_count: int = 0
    gpu_memory_mb: int = 0

    def served_by(self, caps: Capabilities) -> bool:
        """Whether an agent with these capabilities meets the class's minimums."""
        return (
            self.profile in caps.profiles
            and caps.cpu >= self.cpu
            and caps.memory_mb >= self.memory_mb
            and caps.gpu_count >= self.gpu_count
            and (self.gpu_count == 0 or caps.gpu_memory_mb >= self.gpu_memory_mb)
        )


#: Capacity classes, smallest first within a profile; each has one task queue per priority.
SIZES: dict[str, Size] = {
    "cpu-small": Size("cpu", 1, 2048),
    "cpu-large": Size("cpu", 8, 32768),
    "gpu-small": Size("gpu", 4, 16384, 1, 16384),
    "gpu-large": Size("gpu", 16, 131072, 1, 80000),
}


def task_queue(size: str, priority: str = "normal") -> str:
    """Name of the queue carrying tasks of capacity class `size` at `priority`."""
    if size not in SIZES:
        raise ValueError(f"unknown capacity class {size!r}; use one of {', '.join(SIZES)}")
    if priority not in PRIORITIES:
        raise ValueError(f"unknown priority {priority!r}; use one of {', '.join(PRIORITIES)}")
    return f"computalot.tasks.{size}.{priority}"


def task_queues(sizes: tuple[str, ...] | list[str] = tuple(SIZES)) -> list[str]:
    """Every task queue of the given capacity classes, highest priority first."""
    return [task_queue(size, priority) for size in sizes for priority in PRIORITIES]


def run_task_actor(priority: str) -> str:
    """The actor name of task messages at `priority`."""
    if priority not in PRIORITIES:
        raise ValueError(f"unknown priority {priority!r}; use one of {', '.join(PRIORITIES)}")
    return f"{RUN_TASK}.{priority}"


def recipe_queue(key: str, priority: str = "normal") -> str:
    """Queue of recipe tasks; `key` is the recipe name, plus `.feature` for operations needing host tools."""
    if priority not in PRIORITIES:
        raise ValueError(f"unknown priority {priority!r}; use one of {', '.join(PRIORITIES)}")
    return f"computalot.recipes.{key}.{priority}"


def recipe_key(recipe: str, features: tuple[str, ...] | list[str] = ()) -> str:
    """The queue key of a recipe's tasks that need `features` on the agent."""
    return ".".join([recipe, *sorted(features)])


def sizes_served(caps: Capabilities) -> tuple[str, ...]:
    """The capacity classes an agent with `caps` can take tasks of."""
    return tuple(name for name, size in SIZES.items() if size.served_by(caps))
