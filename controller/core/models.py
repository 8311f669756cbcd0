"""The base of every database model (peewee). The controller is the only writer.

Times are UNIX seconds (floats); JSON columns are text so SQLite and PostgreSQL share one schema.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
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
    """A table of the controller's database.

    Each foreign key `x` is followed by an `x_id: <type>` annotation: peewee adds that accessor (the raw key) at
    runtime, and the annotation tells type checkers it exists. Integer primary keys are declared (`pw.AutoField()`)
    for the same reason, though peewee would add them unasked.
    """

    class Meta:
        database = database


def tuples(query: pw.BaseQuery) -> Iterator[tuple[Any, ...]]:
    """The rows of `query` as tuples (peewee's stubs type a model query's rows as models, even after `.tuples()`)."""
    return iter(query.tuples())
