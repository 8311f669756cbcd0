"""The event log: one row per lifecycle event of a job or project."""

from __future__ import annotations

import peewee as pw

from controller.accounts.models import Account
from controller.core.models import BaseModel, JSONField
from controller.jobs.models import Job
from controller.projects.models import Project


class Event(BaseModel):
    """One lifecycle event; the auto-increment id is the stream sequence (`Last-Event-ID`)."""

    id = pw.BigAutoField()
    account = pw.ForeignKeyField(Account, on_delete="CASCADE")
    account_id: str
    job = pw.ForeignKeyField(Job, null=True, backref="events", on_delete="CASCADE")
    job_id: str | None
    project = pw.ForeignKeyField(Project, null=True, backref="events", on_delete="CASCADE")
    project_id: str | None
    kind = pw.CharField(max_length=32)
    data = JSONField()
    created_at = pw.DoubleField()
