"""The schema of the release before migrations existed, frozen: every table its `create_tables` made.

These models describe tables, not behaviour: Python-side defaults and backrefs are left out because they
change no DDL. Never edit them; change the schema in a new migration instead.
"""

from __future__ import annotations

import peewee as pw
from playhouse.migrate import SchemaMigrator


class _Frozen(pw.Model):
    """Bound to the database being migrated only while `apply` runs."""


class Account(_Frozen):
    id = pw.CharField(primary_key=True, max_length=40)
    name = pw.CharField(max_length=200)
    role = pw.CharField(max_length=16)
    webhook_secret = pw.CharField(max_length=80)
    created_at = pw.FloatField()


class ApiKey(_Frozen):
    id = pw.CharField(primary_key=True, max_length=40)
    account = pw.ForeignKeyField(Account, on_delete="CASCADE")
    key_hash = pw.CharField(max_length=64, unique=True)
    prefix = pw.CharField(max_length=16)
    label = pw.CharField(max_length=200)
    created_at = pw.FloatField()
    revoked_at = pw.FloatField(null=True)


class Project(_Frozen):
    id = pw.CharField(primary_key=True, max_length=40)
    account = pw.ForeignKeyField(Account, on_delete="CASCADE")
    name = pw.CharField(max_length=64)
    remote_dir = pw.CharField(max_length=500, null=True)
    description = pw.TextField()
    active_revision = pw.IntegerField()
    created_at = pw.FloatField()
    updated_at = pw.FloatField()

    class Meta:
        indexes = ((("account", "name"), True),)


class Revision(_Frozen):
    project = pw.ForeignKeyField(Project, on_delete="CASCADE")
    number = pw.IntegerField()
    content_hash = pw.CharField(max_length=80, index=True)
    files = pw.TextField()
    size_bytes = pw.BigIntegerField()
    manifest = pw.TextField()
    created_at = pw.FloatField()

    class Meta:
        indexes = ((("project", "number"), True),)


class Job(_Frozen):
    id = pw.CharField(primary_key=True, max_length=40)
    account = pw.ForeignKeyField(Account, on_delete="CASCADE")
    project = pw.ForeignKeyField(Project, null=True, on_delete="SET NULL")
    revision_hash = pw.CharField(max_length=80)
    recipe = pw.CharField(max_length=64)
    type = pw.CharField(max_length=32)
    status = pw.CharField(max_length=16, index=True)
    priority = pw.CharField(max_length=8)
    profile = pw.CharField(max_length=16)
    spec = pw.TextField()
    command = pw.TextField(null=True)
    runtime = pw.CharField(max_length=16)
    workdir = pw.CharField(max_length=500)
    task_count = pw.IntegerField()
    dispatch_pending = pw.BooleanField(index=True)
    finished_count = pw.IntegerField()
    error = pw.TextField(null=True)
    error_code = pw.CharField(max_length=64, null=True)
    recommended_action = pw.TextField(null=True)
    aggregate = pw.TextField(null=True)
    aliases = pw.TextField(null=True)
    warnings = pw.TextField(null=True)
    idempotency_key = pw.CharField(max_length=200, null=True)
    created_at = pw.FloatField(index=True)
    started_at = pw.FloatField(null=True)
    finished_at = pw.FloatField(null=True)

    class Meta:
        indexes = ((("account", "idempotency_key"), True),)


class JobDependency(_Frozen):
    job = pw.ForeignKeyField(Job, backref="+", on_delete="CASCADE")
    depends_on = pw.ForeignKeyField(Job, backref="+", on_delete="CASCADE")


class Callback(_Frozen):
    job = pw.ForeignKeyField(Job, on_delete="CASCADE")
    url = pw.TextField()
    body = pw.TextField()
    status = pw.CharField(max_length=16, index=True)
    attempts = pw.IntegerField()
    next_at = pw.FloatField()
    last_error = pw.TextField(null=True)


class JobTag(_Frozen):
    job = pw.ForeignKeyField(Job, on_delete="CASCADE")
    tag = pw.CharField(max_length=64, index=True)


class Task(_Frozen):
    id = pw.CharField(primary_key=True, max_length=64)
    job = pw.ForeignKeyField(Job, on_delete="CASCADE")
    task_index = pw.IntegerField()
    status = pw.CharField(max_length=16)
    attempt = pw.IntegerField()
    retries_used = pw.IntegerField()
    free_retries = pw.IntegerField()
    enqueued = pw.BooleanField()
    agent_id = pw.CharField(max_length=64)
    payload = pw.TextField(null=True)
    command = pw.TextField(null=True)
    exit_code = pw.IntegerField(null=True)
    error = pw.TextField(null=True)
    error_code = pw.CharField(max_length=64, null=True)
    result = pw.TextField(null=True)
    result_quality = pw.FloatField(null=True)
    result_warnings = pw.TextField(null=True)
    output_tail = pw.TextField()
    latest_progress = pw.TextField(null=True)
    claimed_at = pw.FloatField(null=True)
    started_at = pw.FloatField(null=True)
    finished_at = pw.FloatField(null=True)

    class Meta:
        indexes = (
            (("job", "task_index"), True),
            (("job", "enqueued", "status", "task_index"), False),
        )


class Event(_Frozen):
    id = pw.BigAutoField()
    account = pw.ForeignKeyField(Account, on_delete="CASCADE")
    job = pw.ForeignKeyField(Job, null=True, on_delete="CASCADE")
    project = pw.ForeignKeyField(Project, null=True, on_delete="CASCADE")
    kind = pw.CharField(max_length=32)
    data = pw.TextField()
    created_at = pw.FloatField()


class Artifact(_Frozen):
    id = pw.CharField(primary_key=True, max_length=40)
    account = pw.ForeignKeyField(Account, on_delete="CASCADE")
    sha256 = pw.CharField(max_length=64, index=True)
    size_bytes = pw.BigIntegerField()
    filename = pw.CharField(max_length=255)
    created_at = pw.FloatField()

    class Meta:
        indexes = ((("account", "sha256"), True), (("account", "created_at"), False))


class ArtifactUpload(_Frozen):
    id = pw.CharField(primary_key=True, max_length=40)
    account = pw.ForeignKeyField(Account, on_delete="CASCADE")
    filename = pw.CharField(max_length=255)
    size_bytes = pw.BigIntegerField()
    part_size = pw.BigIntegerField()
    part_count = pw.IntegerField()
    status = pw.CharField(max_length=16)
    created_at = pw.FloatField()
    expires_at = pw.FloatField(index=True)


class ArtifactPart(_Frozen):
    upload = pw.ForeignKeyField(ArtifactUpload, on_delete="CASCADE")
    number = pw.IntegerField()
    size_bytes = pw.BigIntegerField()
    sha256 = pw.CharField(max_length=64)
    received_at = pw.FloatField()

    class Meta:
        indexes = ((("upload", "number"), True),)


class TaskArtifact(_Frozen):
    job = pw.ForeignKeyField(Job, on_delete="CASCADE")
    task = pw.ForeignKeyField(Task, on_delete="CASCADE")
    artifact = pw.ForeignKeyField(Artifact, on_delete="CASCADE")
    attempt = pw.IntegerField()
    kind = pw.CharField(max_length=8)
    path = pw.CharField(max_length=500)

    class Meta:
        indexes = ((("job", "task"), False),)


class LedgerEntry(_Frozen):
    id = pw.BigAutoField()
    account = pw.ForeignKeyField(Account, on_delete="CASCADE")
    kind = pw.CharField(max_length=16)
    amount_micro = pw.BigIntegerField()
    job = pw.ForeignKeyField(Job, null=True, on_delete="SET NULL")
    quote_id = pw.CharField(max_length=40, null=True)
    reason = pw.TextField()
    ref = pw.CharField(max_length=120, null=True, unique=True)
    created_at = pw.FloatField()

    class Meta:
        indexes = ((("account", "id"), False),)


class Hold(_Frozen):
    id = pw.CharField(primary_key=True, max_length=40)
    account = pw.ForeignKeyField(Account, on_delete="CASCADE")
    job = pw.ForeignKeyField(Job, unique=True, on_delete="CASCADE")
    amount_micro = pw.BigIntegerField()
    rate_micro_usd_per_hour = pw.BigIntegerField()
    used_ms = pw.BigIntegerField()
    status = pw.CharField(max_length=16, index=True)
    charged_micro = pw.BigIntegerField(null=True)
    created_at = pw.FloatField()
    settled_at = pw.FloatField(null=True)

    class Meta:
        indexes = ((("account", "status"), False),)


class Quote(_Frozen):
    id = pw.CharField(primary_key=True, max_length=40)
    account = pw.ForeignKeyField(Account, on_delete="CASCADE")
    kind = pw.CharField(max_length=16)
    amount_micro = pw.BigIntegerField()
    purpose = pw.CharField(max_length=300)
    details = pw.TextField()
    status = pw.CharField(max_length=16, index=True)
    created_at = pw.FloatField()
    expires_at = pw.FloatField()
    paid_at = pw.FloatField(null=True)


class Payment(_Frozen):
    id = pw.CharField(primary_key=True, max_length=40)
    quote = pw.ForeignKeyField(Quote, on_delete="CASCADE")
    account = pw.ForeignKeyField(Account, on_delete="CASCADE")
    network = pw.CharField(max_length=64)
    asset = pw.CharField(max_length=42)
    payer = pw.CharField(max_length=42, index=True)
    pay_to = pw.CharField(max_length=42)
    value_micro = pw.BigIntegerField()
    nonce = pw.CharField(max_length=66, unique=True)
    valid_before = pw.BigIntegerField()
    signature = pw.TextField()
    status = pw.CharField(max_length=16)
    transaction = pw.CharField(max_length=200, null=True)
    error = pw.TextField(null=True)
    created_at = pw.FloatField()
    settled_at = pw.FloatField(null=True)


class WalletIdentity(_Frozen):
    id = pw.CharField(primary_key=True, max_length=40)
    account = pw.ForeignKeyField(Account, on_delete="CASCADE")
    chain = pw.CharField(max_length=16)
    address = pw.CharField(max_length=42)
    label = pw.CharField(max_length=200)
    created_at = pw.FloatField()
    revoked_at = pw.FloatField(null=True)

    class Meta:
        indexes = ((("chain", "address"), True),)


class WalletChallenge(_Frozen):
    id = pw.CharField(primary_key=True, max_length=40)
    chain = pw.CharField(max_length=16)
    address = pw.CharField(max_length=42)
    message = pw.TextField()
    created_at = pw.FloatField()
    expires_at = pw.FloatField()
    used_at = pw.FloatField(null=True)


class Session(_Frozen):
    id = pw.CharField(primary_key=True, max_length=40)
    account = pw.ForeignKeyField(Account, on_delete="CASCADE")
    wallet = pw.ForeignKeyField(WalletIdentity, null=True, on_delete="CASCADE")
    token_hash = pw.CharField(max_length=64, unique=True)
    prefix = pw.CharField(max_length=16)
    created_at = pw.FloatField()
    expires_at = pw.FloatField(index=True)
    revoked_at = pw.FloatField(null=True)


class Feedback(_Frozen):
    id = pw.BigAutoField()
    type = pw.CharField(max_length=32)
    title = pw.CharField(max_length=200)
    description = pw.TextField()
    created_at = pw.FloatField(index=True)


#: Every table of the previous release, each after the tables it references.
MODELS: tuple[type[pw.Model], ...] = (
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
    LedgerEntry,
    Hold,
    Quote,
    Payment,
    WalletIdentity,
    WalletChallenge,
    Session,
    Feedback,
)

#: Their table names: a database holding all of them and no history was made by the previous release.
TABLES: tuple[str, ...] = tuple(model._meta.table_name for model in MODELS)


def apply(migrator: SchemaMigrator) -> None:
    """Create every table of the previous release."""
    db = migrator.database
    with db.bind_ctx(MODELS):
        db.create_tables(MODELS)
