"""The contract between controller and agent: broker construction, queue and actor names, wire schemas."""

from broker.connection import connect
from broker.errors import BrokerConfigError, DecodeError, IllegalTransition
from broker.messages import (
    AgentHeartbeat,
    Capabilities,
    Control,
    TaskMessage,
    TaskOutput,
    TaskProgress,
    TaskResult,
    decode,
    encode,
)
from broker.queues import (
    APPLY_RESULT,
    PRIORITIES,
    RESULTS_QUEUE,
    RUN_TASK,
    SIZES,
    run_task_actor,
    sizes_served,
    task_queue,
    task_queues,
)
from broker.statuses import (
    ACTIVE_JOB,
    TERMINAL_JOB,
    TERMINAL_TASK,
    UNFINISHED_JOB,
    UNFINISHED_TASK,
    JobStatus,
    TaskStatus,
    job_transition,
    task_transition,
)
from broker.transport import declare_queues, send_result, send_task

__all__ = [
    # connection
    "connect",
    "declare_queues",
    "send_result",
    "send_task",
    # names
    "APPLY_RESULT",
    "PRIORITIES",
    "SIZES",
    "RESULTS_QUEUE",
    "RUN_TASK",
    "run_task_actor",
    "sizes_served",
    "task_queue",
    "task_queues",
    # messages
    "AgentHeartbeat",
    "Capabilities",
    "Control",
    "TaskMessage",
    "TaskOutput",
    "TaskProgress",
    "TaskResult",
    "decode",
    "encode",
    # statuses
    "ACTIVE_JOB",
    "TERMINAL_JOB",
    "TERMINAL_TASK",
    "UNFINISHED_JOB",
    "UNFINISHED_TASK",
    "JobStatus",
    "TaskStatus",
    "job_transition",
    "task_transition",
    # errors
    "BrokerConfigError",
    "DecodeError",
    "IllegalTransition",
]
