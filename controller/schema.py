"""The controller's whole schema: every table of every domain, and opening a database with them."""

from __future__ import annotations

import peewee as pw

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

#: Every table, each after the tables it references.
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


def open_database(url: str) -> pw.Database:
    """Connect to `url` (see `controller.core.db.connect`) and create the tables that are missing."""
    db = connect(url)
    db.create_tables(MODELS, safe=True)
    return db
