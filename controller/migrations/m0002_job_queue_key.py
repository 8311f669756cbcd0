"""Recipe jobs get their own queue column, `job.queue_key`; `job.profile` then only ever holds a preset.

Recipe jobs used to keep their queue key (the recipe name, plus `.feature`s) in `profile`, whose 16 characters
cannot hold every key on PostgreSQL. Existing recipe jobs move theirs over, and their `profile` becomes empty.
"""

from __future__ import annotations

import peewee as pw
from playhouse.migrate import SchemaMigrator


def apply(migrator: SchemaMigrator) -> None:
    """Add `job.queue_key` and move the recipe jobs' queue keys into it."""
    migrator.add_column("job", "queue_key", pw.CharField(max_length=200, default="")).run()
    job = pw.Table("job").bind(migrator.database)
    # Both assignments read the row as it was, so the key is copied before profile is cleared.
    job.update({job.c.queue_key: job.c.profile, job.c.profile: ""}).where(job.c.runtime == "recipe").execute()
