"""Opening the database from a URL, and the single writer thread.

Every write goes through one thread (`Store.write`), so SQLite never sees two writers and
each state change is one transaction; reads run wherever they are asked for.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import peewee as pw
from playhouse.db_url import connect as connect_url

from controller.core.hooks import HookEmitter
from controller.core.models import database
from controller.core.settings import ConfigError

logger = logging.getLogger(__name__)

T = TypeVar("T")

_SQLITE_PRAGMAS = {"journal_mode": "wal", "synchronous": "normal", "foreign_keys": 1, "busy_timeout": 30000}


def connect(url: str) -> pw.Database:
    """Connect peewee to `url` (`sqlite:///path` or `postgresql://user:pass@host:port/db`).

    Raises:
      ConfigError: the scheme is not supported.
    """
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        path = url[len("sqlite:///") :]
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        db: pw.Database = pw.SqliteDatabase(path, pragmas=_SQLITE_PRAGMAS, timeout=30)
    elif scheme in ("postgres", "postgresql"):
        db = connect_url(url.replace("postgres://", "postgresql://", 1))
    else:  # never echo the URL: it may hold a password
        raise ConfigError(
            f"unsupported database scheme {scheme!r}; use sqlite:///path/to/db or postgresql://user:pass@host:5432/db"
        )
    database.initialize(db)
    db.connect(reuse_if_open=True)
    return db


class Store:
    """Runs writes on one dedicated thread, each inside a transaction."""

    def __init__(self, db: pw.Database, hooks: HookEmitter | None = None) -> None:
        self.db = db
        #: told `after_commit` on the writer thread after every committed write (the app's hooks)
        self.hooks = hooks if hooks is not None else HookEmitter()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db-writer")

    def _run(self, fn: Callable[..., T], *args: Any) -> T:
        with self.db.atomic():
            result = fn(*args)
        self.hooks.after_commit()
        return result

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(*args)` in one transaction on the writer thread."""
        return await asyncio.get_running_loop().run_in_executor(self._writer, self._run, fn, *args)

    def write_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """Like `write`, from a thread that is not the event loop's."""
        return self._writer.submit(self._run, fn, *args).result()

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a slow read off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    def ping(self) -> bool:
        """Whether the database answers a trivial query."""
        try:
            self.db.execute_sql("SELECT 1")
            return True
        except pw.PeeweeException:
            return False

    def close(self) -> None:
        self._writer.shutdown(wait=True)
        if not self.db.is_closed():
            self.db.close()
