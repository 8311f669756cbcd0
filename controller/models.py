"""Database models (peewee). The controller is the only writer.

Times are UNIX seconds (floats); JSON columns are text so SQLite and PostgreSQL share one schema.
"""

from __future__ import annotations

import peewee as pw

from controller.accounts.models import Account, ApiKey
from controller.artifacts.models import Artifact, ArtifactPart, ArtifactUpload, TaskArtifact
from controller.core.models import BaseModel, JSONField
from controller.jobs.models import Callback, Job, JobDependency, JobTag, Task
from controller.projects.models import Project, Revision


class Event(BaseModel):
    """One lifecycle event; the auto-increment id is the stream sequence (`Last-Event-ID`)."""

    id = pw.BigAutoField()
    account = pw.ForeignKeyField(Account, on_delete="CASCADE")
    job = pw.ForeignKeyField(Job, null=True, backref="events", on_delete="CASCADE")
    project = pw.ForeignKeyField(Project, null=True, backref="events", on_delete="CASCADE")
    kind = pw.CharField(max_length=32)
    data = JSONField()
    created_at = pw.FloatField()


MODELS: list[type[BaseModel]] = [
    Account,
    ApiKey,
    Project,
    Revision,
    Job,
    JobDependency,
    Callback,
    JobTag,
    Task,
    Event,
    Artifact,
    ArtifactUpload,
    ArtifactPart,
    TaskArtifact,
]
