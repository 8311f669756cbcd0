"""What `computalot-admin` commands share: the admin API over HTTP, and the database for the commands that must run
before any controller does."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import click
import httpx
import peewee as pw

from controller.admin.bootstrap import TOKEN_FILE
from controller.core.db import connect
from controller.core.settings import ConfigError, Settings
from controller.schema import open_database

#: Statuses whose message gets a hint about the token.
_AUTH_STATUSES = (401, 403)


def segment(value: str) -> str:
    """`value` as one URL path segment."""
    return quote(value, safe="")


class AdminApi:
    """`/api/v1/admin/*` with an admin token; every failure becomes a `click.ClickException` with the server's words."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)

    def call(self, method: str, path: str, *, missing: str = "", **kwargs: Any) -> Any:
        """The decoded JSON answer of a 2xx; `missing` replaces the message of a 404."""
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise click.ClickException(
                f"cannot reach the controller at {self.url} ({exc}); start it, or pass --url / COMPUTALOT_URL"
            ) from None
        if response.status_code == 404 and missing:
            raise click.ClickException(missing)
        if response.is_error:
            raise click.ClickException(_message(response))
        return response.json()

    def close(self) -> None:
        self._http.close()


def _message(response: httpx.Response) -> str:
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return f"the controller answered {response.status_code}: {response.text[:200]}"
    fields = (error.get("details") or {}).get("fields") if isinstance(error.get("details"), dict) else None
    message = "; ".join(f["message"] for f in fields) if fields else error.get("message", "")
    if response.status_code in _AUTH_STATUSES:
        message += "; pass an admin token with --token or COMPUTALOT_ADMIN_TOKEN"
    return message


@dataclass
class AdminContext:
    """The group's options; the API client and the database are opened only by the commands that need them."""

    settings: Settings
    url: str | None = None
    token: str | None = None
    _api: AdminApi | None = field(default=None, repr=False)

    @property
    def api(self) -> AdminApi:
        """The admin API at `--url` (default: this host's embedded platform) with `--token` (default: its file)."""
        if self._api is None:
            self._api = AdminApi(self.url or self.settings.base_url, self.token or self._token_file())
        return self._api

    def _token_file(self) -> str:
        path: Path = self.settings.data_dir / TOKEN_FILE
        if not path.is_file():
            raise click.UsageError(
                f"no admin token: pass --token or set COMPUTALOT_ADMIN_TOKEN ({path} holds the embedded one)"
            )
        return path.read_text().strip()

    def database(self) -> pw.Database:
        """The database itself, at this code's schema, for what runs while no controller does (bootstrap)."""
        try:
            return open_database(self.settings.effective_database_url)
        except ConfigError as exc:  # a bad URL, or a schema that needs `computalot-admin migrate` first
            raise click.ClickException(exc.message) from None

    def unchecked_database(self) -> pw.Database:
        """The database whatever its schema version, for `migrate`, which brings it forward."""
        try:
            return connect(self.settings.effective_database_url)
        except ConfigError as exc:
            raise click.ClickException(exc.message) from None

    def close(self) -> None:
        if self._api is not None:
            self._api.close()
