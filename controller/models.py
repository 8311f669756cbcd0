"""Database models (peewee). The controller is the only writer.

Times are UNIX seconds (floats); JSON columns are text so SQLite and PostgreSQL share one schema.
"""

from __future__ import annotations

import peewee as pw

from controller.accounts.models import Account, ApiKey
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


class Artifact(BaseModel):
    """Stored bytes owned by an account; the same bytes are stored once per account (content addressing)."""

    id = pw.CharField(primary_key=True, max_length=40)
    account = pw.ForeignKeyField(Account, backref="artifacts", on_delete="CASCADE")
    sha256 = pw.CharField(max_length=64, index=True)
    size_bytes = pw.BigIntegerField()
    filename = pw.CharField(max_length=255)
    created_at = pw.FloatField()

    class Meta:
        indexes = ((("account", "sha256"), True), (("account", "created_at"), False))


class ArtifactUpload(BaseModel):
    """A multipart upload in progress (`upl_…`); removed when completed, aborted or expired."""

    id = pw.CharField(primary_key=True, max_length=40)
    account = pw.ForeignKeyField(Account, on_delete="CASCADE")
    filename = pw.CharField(max_length=255)
    size_bytes = pw.BigIntegerField()
    part_size = pw.BigIntegerField()
    part_count = pw.IntegerField()
    #: open | completing
    status = pw.CharField(max_length=16, default="open")
    created_at = pw.FloatField()
    expires_at = pw.FloatField(index=True)


class ArtifactPart(BaseModel):
    """One received part of a multipart upload (a re-sent part replaces its row)."""

    upload = pw.ForeignKeyField(ArtifactUpload, backref="parts", on_delete="CASCADE")
    number = pw.IntegerField()
    size_bytes = pw.BigIntegerField()
    sha256 = pw.CharField(max_length=64)
    received_at = pw.FloatField()

    class Meta:
        indexes = ((("upload", "number"), True),)


class TaskArtifact(BaseModel):
    """An artifact a task attempt produced: a file of its COMPUTALOT_ARTIFACT_DIR (`output`) or its log (`log`)."""

    job = pw.ForeignKeyField(Job, on_delete="CASCADE")
    task = pw.ForeignKeyField(Task, on_delete="CASCADE")
    artifact = pw.ForeignKeyField(Artifact, on_delete="CASCADE")
    attempt = pw.IntegerField()
    kind = pw.CharField(max_length=8)
    path = pw.CharField(max_length=500)

    class Meta:
        indexes = ((("job", "task"), False),)


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
