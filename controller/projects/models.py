"""Project tables: projects and their revisions (one per pushed content hash)."""

from __future__ import annotations

import peewee as pw

from controller.accounts.models import Account
from controller.core.models import BaseModel, JSONField


class Project(BaseModel):
    id = pw.CharField(primary_key=True, max_length=40)
    account = pw.ForeignKeyField(Account, backref="projects", on_delete="CASCADE")
    account_id: str
    name = pw.CharField(max_length=64)
    remote_dir = pw.CharField(max_length=500, null=True)
    description = pw.TextField(default="")
    active_revision = pw.IntegerField(default=0)
    created_at = pw.DoubleField()
    updated_at = pw.DoubleField()

    class Meta:
        indexes = ((("account", "name"), True),)


class Revision(BaseModel):
    id = pw.AutoField()
    project = pw.ForeignKeyField(Project, backref="revisions", on_delete="CASCADE")
    project_id: str
    number = pw.IntegerField()
    content_hash = pw.CharField(max_length=80, index=True)
    #: path -> sha256 of every file, for tarball_diff
    files = JSONField()
    size_bytes = pw.BigIntegerField()
    manifest = JSONField()
    created_at = pw.DoubleField()

    class Meta:
        indexes = ((("project", "number"), True),)
