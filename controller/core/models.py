"""The base of every database model (peewee). The controller is the only writer.

Times are UNIX seconds (floats); JSON columns are text so SQLite and PostgreSQL share one schema.
"""

from __future__ import annotations

import json
from typing import Any

import peewee as pw

#: Bound to a real database by `controller.core.db.connect`.
database = pw.DatabaseProxy()


class JSONField(pw.TextField):
    """A JSON value stored as text."""

    def db_value(self, value: Any) -> str | None:
        return None if value is None else json.dumps(value, separators=(",", ":"))

    def python_value(self, value: str | None) -> Any:
        return None if value is None else json.loads(value)


class BaseModel(pw.Model):
    class Meta:
        database = database
