"""The controller's whole schema: every table of every domain, and opening a database at their version."""

from __future__ import annotations

import peewee as pw

from controller import migrations
from controller.accounts.models import Account, ApiKey
from controller.artifacts.models import Artifact, ArtifactPart, ArtifactUpload, TaskArtifact
from controller.billing.models import BILLING_MODELS
from controller.core.db import connect
from controller.core.models import BaseModel
from controller.feedback.models import FEEDBACK_MODELS
from controller.identity.models import IDENTITY_MODELS
from controller.jobs.models import Callback, Job, JobDependency, JobTag, Task
from controller.live.models import Event
from controller.projects.models import Project, Revision

#: Every table, each after the tables it references; `controller.migrations` builds exactly these (a test holds it).
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
    *BILLING_MODELS,
    *IDENTITY_MODELS,
    *FEEDBACK_MODELS,
]


def open_database(url: str, *, migrate: bool = False) -> pw.Database:
    """Connect to `url` (see `controller.core.db.connect`) and make sure its schema is the one of `MODELS`.

    An empty database is brought to the latest version (creating is safe); one that lacks migrations is brought
    forward only when `migrate` is set (the embedded launcher and the test fixtures), else refused, so that an
    operator runs `computalot-admin migrate` deliberately.

    Raises:
      ConfigError: the scheme is not supported.
      SchemaOutOfDate: the database lacks migrations and `migrate` is not set, or it is newer than this code.
    """
    db = connect(url)
    try:
        if migrate or migrations.is_empty(db):
            migrations.migrate(db)
        else:
            migrations.check(db)
    except BaseException:
        db.close()
        raise
    return db
