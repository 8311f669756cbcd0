"""Job tables: jobs, their tasks, tags, dependencies and owed callbacks."""

from __future__ import annotations

import peewee as pw

from broker.statuses import TaskStatus
from controller.accounts.models import Account
from controller.core.models import BaseModel, JSONField
from controller.projects.models import Project


class Job(BaseModel):
    id = pw.CharField(primary_key=True, max_length=40)
    account = pw.ForeignKeyField(Account, backref="jobs", on_delete="CASCADE")
    account_id: str
    project = pw.ForeignKeyField(Project, null=True, backref="jobs", on_delete="SET NULL")
    project_id: str | None
    revision_hash = pw.CharField(max_length=80, default="")
    recipe = pw.CharField(max_length=64, default="")
    type = pw.CharField(max_length=32, default="structured_runner")
    #: a `JobStatus`; it moves only through `broker.statuses.job_transition`
    status = pw.CharField(max_length=16, index=True)
    priority = pw.CharField(max_length=8, default="normal")
    #: capacity class (preset) whose queues carry the job's tasks; empty for recipe jobs
    profile = pw.CharField(max_length=16, default="cpu-small")
    #: recipe jobs: the recipe queue key (the recipe name, plus `.feature`s) whose queues carry the tasks
    queue_key = pw.CharField(max_length=200, default="")
    #: the validated submission, as the user sent it (normalised)
    spec = JSONField()
    #: the command tasks run (submitted `runner_command`, else the manifest's entrypoint)
    command = JSONField(null=True)
    #: `process` | `oci` | `recipe`
    runtime = pw.CharField(max_length=16, default="process")
    workdir = pw.CharField(max_length=500, default=".")
    task_count = pw.IntegerField()
    #: whether some task attempt of this job still has to be sent to the broker
    dispatch_pending = pw.BooleanField(default=True, index=True)
    #: tasks in a terminal state; the job finishes when it reaches task_count
    finished_count = pw.IntegerField(default=0)
    error = pw.TextField(null=True)
    error_code = pw.CharField(max_length=64, null=True)
    recommended_action = pw.TextField(null=True)
    aggregate = JSONField(null=True)
    #: short names pointing into the aggregate (`best_params`, `best_candidate`, ...)
    aliases = JSONField(null=True)
    #: what was off while merging (results without the rank_by field, malformed batches, ...)
    warnings = JSONField(null=True)
    idempotency_key = pw.CharField(max_length=200, null=True)
    created_at = pw.DoubleField(index=True)
    started_at = pw.DoubleField(null=True)
    finished_at = pw.DoubleField(null=True)

    class Meta:
        indexes = ((("account", "idempotency_key"), True),)


class JobDependency(BaseModel):
    """`job` waits in planning until `depends_on` completes."""

    id = pw.AutoField()
    job = pw.ForeignKeyField(Job, backref="dependencies", on_delete="CASCADE")
    job_id: str
    depends_on = pw.ForeignKeyField(Job, backref="dependents", on_delete="CASCADE")
    depends_on_id: str


class Callback(BaseModel):
    """A signed POST owed to a job's callback_url; delivered with retries, never blocking the job."""

    id = pw.AutoField()
    job = pw.ForeignKeyField(Job, backref="callbacks", on_delete="CASCADE")
    job_id: str
    url = pw.TextField()
    body = JSONField()
    #: pending | delivered | failed
    status = pw.CharField(max_length=16, default="pending", index=True)
    attempts = pw.IntegerField(default=0)
    next_at = pw.DoubleField()
    last_error = pw.TextField(null=True)


class JobTag(BaseModel):
    id = pw.AutoField()
    job = pw.ForeignKeyField(Job, backref="tag_rows", on_delete="CASCADE")
    job_id: str
    tag = pw.CharField(max_length=64, index=True)


class Task(BaseModel):
    id = pw.CharField(primary_key=True, max_length=64)
    job = pw.ForeignKeyField(Job, backref="tasks", on_delete="CASCADE")
    job_id: str
    task_index = pw.IntegerField()
    #: a `TaskStatus`; it moves only through `broker.statuses.task_transition`
    status = pw.CharField(max_length=16, default=TaskStatus.QUEUED)
    #: 1-based number of the current attempt (every retry adds one)
    attempt = pw.IntegerField(default=1)
    #: retries spent on failures of the user's code (bounded by the job's max_retries)
    retries_used = pw.IntegerField(default=0)
    #: retries spent on lost agents and platform failures (bounded by the platform)
    free_retries = pw.IntegerField(default=0)
    #: whether the current attempt's message is in the broker
    enqueued = pw.BooleanField(default=False)
    agent_id = pw.CharField(max_length=64, default="")
    #: set only for tasks outside the job's plan (a map_reduce reduce task): their own payload and command
    payload = JSONField(null=True)
    command = JSONField(null=True)
    exit_code = pw.IntegerField(null=True)
    error = pw.TextField(null=True)
    error_code = pw.CharField(max_length=64, null=True)
    result = JSONField(null=True)
    result_quality = pw.DoubleField(null=True)
    result_warnings = JSONField(null=True)
    output_tail = pw.TextField(default="")
    latest_progress = JSONField(null=True)
    claimed_at = pw.DoubleField(null=True)
    started_at = pw.DoubleField(null=True)
    finished_at = pw.DoubleField(null=True)

    class Meta:
        indexes = (
            (("job", "task_index"), True),
            (("job", "enqueued", "status", "task_index"), False),
        )
