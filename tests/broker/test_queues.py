"""Queue and actor names, and the capacity classes (sizes) task queues exist for."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from broker.messages import Capabilities
from broker.queues import (
    ACTOR_PRIORITY,
    APPLY_RESULT,
    PRIORITIES,
    RESULTS_QUEUE,
    RUN_TASK,
    SIZES,
    Size,
    run_task_actor,
    sizes_served,
    task_queue,
    task_queues,
)


def test_task_queue_names_size_and_priority() -> None:
    # Given a capacity class and a priority, Then the queue name has both, and normal is the default
    assert task_queue("gpu-small", "high") == "computalot.tasks.gpu-small.high"
    assert task_queue("cpu-large") == "computalot.tasks.cpu-large.normal"


def test_task_queues_lists_every_size_highest_priority_first() -> None:
    # Given the capacity classes, Then every pair has a queue, high before normal before low
    assert task_queues(["cpu-small"]) == [
        "computalot.tasks.cpu-small.high",
        "computalot.tasks.cpu-small.normal",
        "computalot.tasks.cpu-small.low",
    ]
    assert len(set(task_queues())) == len(SIZES) * len(PRIORITIES)
    assert task_queues() == [task_queue(size, priority) for size in SIZES for priority in PRIORITIES]


@pytest.mark.parametrize(
    ("size", "priority", "says"),
    [("cpu", "normal", "capacity class"), ("tpu-huge", "high", "capacity class"), ("cpu-small", "urgent", "priority")],
)
def test_task_queue_rejects_an_unknown_size_or_priority(size: str, priority: str, says: str) -> None:
    # Given an unknown capacity class (a bare profile is not one) or priority
    # When a queue is named, Then a ValueError says which
    with pytest.raises(ValueError, match=f"unknown {says}"):
        task_queue(size, priority)


def test_the_results_queue_and_actors_are_not_task_queues() -> None:
    # Given the shared names, Then they are distinct from each other and from the task queues
    actors = [run_task_actor(priority) for priority in PRIORITIES]
    assert RESULTS_QUEUE not in task_queues()
    assert APPLY_RESULT not in actors
    assert not set(actors) & set(task_queues())


def test_there_is_one_run_task_actor_per_priority() -> None:
    # Given the priorities, When their actor names are read
    actors = [run_task_actor(priority) for priority in PRIORITIES]

    # Then each is RUN_TASK with the priority appended, all distinct
    assert actors == ["computalot.run_task.high", "computalot.run_task.normal", "computalot.run_task.low"]
    assert all(actor.startswith(RUN_TASK + ".") for actor in actors)


def test_run_task_actor_rejects_an_unknown_priority() -> None:
    # Given an unknown priority, When its actor is named, Then a ValueError says so
    with pytest.raises(ValueError, match="unknown priority"):
        run_task_actor("urgent")


def test_higher_job_priorities_get_lower_actor_priorities() -> None:
    # Given the actor priority table (Dramatiq runs lower numbers first)
    # Then it covers every job priority, and high < normal < low
    assert set(ACTOR_PRIORITY) == set(PRIORITIES)
    assert [ACTOR_PRIORITY[p] for p in PRIORITIES] == sorted(ACTOR_PRIORITY[p] for p in PRIORITIES)
    assert len(set(ACTOR_PRIORITY.values())) == len(PRIORITIES)


def test_sizes_grow_within_each_profile_and_gpu_sizes_ask_for_a_gpu() -> None:
    # Given the capacity classes in order
    # Then within a profile each is at least as large as the one before in every minimum
    for profile in {size.profile for size in SIZES.values()}:
        sizes = [size for size in SIZES.values() if size.profile == profile]
        for smaller, larger in zip(sizes, sizes[1:], strict=False):
            assert larger.cpu >= smaller.cpu and larger.memory_mb >= smaller.memory_mb
            assert larger.gpu_count >= smaller.gpu_count and larger.gpu_memory_mb >= smaller.gpu_memory_mb
    # And a class asks for a GPU exactly when its profile is gpu
    assert all((size.gpu_count > 0) == (size.profile == "gpu") for size in SIZES.values())


def test_a_size_is_served_by_an_agent_meeting_every_minimum_exactly() -> None:
    # Given an agent offering exactly gpu-small's minimums, with the gpu profile
    size = SIZES["gpu-small"]
    caps = Capabilities(
        cpu=size.cpu,
        memory_mb=size.memory_mb,
        gpu_count=size.gpu_count,
        gpu_memory_mb=size.gpu_memory_mb,
        profiles=("gpu",),
    )

    # Then it is served, and falling one short of any minimum (or lacking the profile) is not
    assert size.served_by(caps)
    for short in (
        {"cpu": size.cpu - 1},
        {"memory_mb": size.memory_mb - 1},
        {"gpu_count": size.gpu_count - 1},
        {"gpu_memory_mb": size.gpu_memory_mb - 1},
        {"profiles": ("cpu",)},
    ):
        assert not size.served_by(dataclasses.replace(caps, **short)), short


def test_a_cpu_size_ignores_gpu_memory() -> None:
    # Given a cpu class and an agent without GPUs or GPU memory
    caps = Capabilities(cpu=1, memory_mb=2048, gpu_memory_mb=0)

    # Then the class is served
    assert Size("cpu", 1, 2048).served_by(caps)


@pytest.mark.parametrize(
    ("caps", "served"),
    [
        (Capabilities(cpu=1, memory_mb=0), ()),
        (Capabilities(cpu=1, memory_mb=2048), ("cpu-small",)),
        (Capabilities(cpu=8, memory_mb=32768), ("cpu-small", "cpu-large")),
        (
            Capabilities(cpu=64, memory_mb=262144, gpu_count=8, gpu_memory_mb=80000, profiles=("gpu",)),
            ("gpu-small", "gpu-large"),
        ),
        (
            Capabilities(cpu=16, memory_mb=131072, gpu_count=1, gpu_memory_mb=24576, profiles=("cpu", "gpu")),
            ("cpu-small", "cpu-large", "gpu-small"),
        ),
        (Capabilities(cpu=64, memory_mb=262144, gpu_count=0, gpu_memory_mb=80000, profiles=("gpu",)), ()),
    ],
)
def test_sizes_served_lists_the_classes_an_agent_meets_smallest_first(caps: Capabilities, served: tuple) -> None:
    # Given an agent's capabilities, When the classes it serves are listed
    # Then they are those whose profile it offers and whose minimums it meets, in SIZES order
    assert sizes_served(caps) == served


@given(
    caps=st.builds(
        Capabilities,
        cpu=st.integers(0, 64),
        memory_mb=st.integers(0, 300_000),
        gpu_count=st.integers(0, 4),
        gpu_memory_mb=st.integers(0, 100_000),
        profiles=st.lists(st.sampled_from(["cpu", "gpu"]), unique=True).map(tuple),
    )
)
def test_an_agent_serving_a_size_serves_every_smaller_size_of_that_profile(caps: Capabilities) -> None:
    # Given any agent, When the classes it serves are listed
    served = sizes_served(caps)

    # Then within a profile they are a prefix of that profile's classes (serving a large one implies the small one)
    for profile in ("cpu", "gpu"):
        names = [name for name, size in SIZES.items() if size.profile == profile]
        mine = [name for name in served if SIZES[name].profile == profile]
        assert mine == names[: len(mine)]


# --- connection --------------------------------------------------------------------------------------------------
