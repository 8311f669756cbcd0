"""Artifact tables: stored files, multipart uploads in progress and their parts, and what task attempts produced."""

from __future__ import annotations

import peewee as pw

from controller.accounts.models import Account
from controller.core.models import BaseModel
from controller.jobs.models import Job, Task


class Artifact(BaseModel):
    """Stored bytes owned by an account; the same bytes are stored once per account (content addressing)."""

    id = pw.CharField(primary_key=True, max_length=40)
    account = pw.ForeignKeyField(Account, backref="artifacts", on_delete="CASCADE")
    account_id: str
    sha256 = pw.CharField(max_length=64, index=True)
    size_bytes = pw.BigIntegerField()
    filename = pw.CharField(max_length=255)
    created_at = pw.DoubleField()

    class Meta:
        indexes = ((("account", "sha256"), True), (("account", "created_at"), False))


class ArtifactUpload(BaseModel):
    """A multipart upload in progress (`upl_…`); removed when completed, aborted or expired."""

    id = pw.CharField(primary_key=True, max_length=40)
    account = pw.ForeignKeyField(Account, on_delete="CASCADE")
    account_id: str
    filename = pw.CharField(max_length=255)
    size_bytes = pw.BigIntegerField()
    part_size = pw.BigIntegerField()
    part_count = pw.IntegerField()
    #: open | completing
    status = pw.CharField(max_length=16, default="open")
    created_at = pw.DoubleField()
    expires_at = pw.DoubleField(index=True)


class ArtifactPart(BaseModel):
    """One received part of a multipart upload (a re-sent part replaces its row)."""

    id = pw.AutoField()
    upload = pw.ForeignKeyField(ArtifactUpload, backref="parts", on_delete="CASCADE")
    upload_id: str
    number = pw.IntegerField()
    size_bytes = pw.BigIntegerField()
    sha256 = pw.CharField(max_length=64)
    received_at = pw.DoubleField()

    class Meta:
        indexes = ((("upload", "number"), True),)


class TaskArtifact(BaseModel):
    """An artifact a task attempt produced: a file of its COMPUTALOT_ARTIFACT_DIR (`output`) or its log (`log`)."""

    id = pw.AutoField()
    job = pw.ForeignKeyField(Job, on_delete="CASCADE")
    job_id: str
    task = pw.ForeignKeyField(Task, on_delete="CASCADE")
    task_id: str
    artifact = pw.ForeignKeyField(Artifact, on_delete="CASCADE")
    artifact_id: str
    attempt = pw.IntegerField()
    kind = pw.CharField(max_length=8)
    path = pw.CharField(max_length=500)

    class Meta:
        indexes = ((("job", "task"), False),)
