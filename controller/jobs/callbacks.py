"""Job callbacks: a signed POST to `callback_url` once a job is terminal, retried with backoff.

Callback rows are written in the same transaction as the terminal status, so a restart
never loses one; delivery runs in the background and never holds up the job.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import socket
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from broker.statuses import ACTIVE_JOB
from controller.accounts.models import Account
from controller.core.background import BackgroundLoop
from controller.core.db import Store
from controller.core.hooks import Hooks
from controller.jobs import addresses
from controller.jobs.models import Callback, Job

if TYPE_CHECKING:
    from controller.jobs.outcomes import Applied

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Computalot-Signature"
MAX_ATTEMPTS = 8
#: seconds before the second attempt; doubles each time, capped at an hour
BASE_DELAY_S = 2.0


def sign(body: bytes, secret: str) -> str:
    """`sha256=<hex HMAC-SHA256 of the body>` keyed by the account's webhook secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class InternalAddress(Exception):
    """A callback's host resolves to an internal address, or to none; the message names it or says why."""


def resolve(host: str) -> list[str]:
    """The addresses `host` resolves to (an IP address resolves to itself).

    Raises:
      OSError, UnicodeError: it does not resolve.
    """
    return [str(info[4][0]) for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)]


def public_addresses(host: str) -> list[str]:
    """Every address `host` resolves to, all of them public (`addresses.is_public`).

    Raises:
      InternalAddress: one is internal (the message is that address), or the host does not resolve.
    """
    try:
        found = resolve(host)
    except (OSError, UnicodeError) as exc:
        raise InternalAddress(f"{host} does not resolve ({exc})") from None
    if not found:
        raise InternalAddress(f"{host} does not resolve")
    for address in found:
        internal = addresses.internal_address(address)
        if internal:
            raise InternalAddress(internal)
    return [address.split("%")[0] for address in found]


def private_address(url: str) -> str | None:
    """The private, loopback or otherwise internal address `url`'s host resolves to, if any (or why it can't)."""
    try:
        public_addresses(_host(httpx.URL(url)))
    except httpx.InvalidURL as exc:
        return f"{url} is not a valid URL ({exc})"
    except InternalAddress as exc:
        return str(exc)
    return None


@dataclass(frozen=True)
class Pinned:
    """A request to a callback URL's host at one address checked just now, so a DNS answer that changes
    afterwards (rebinding to an internal address) is never used."""

    url: httpx.URL
    headers: dict[str, str]
    extensions: dict[str, Any]


def pin(url: str) -> Pinned:
    """Resolve `url`'s host again, check every address, and aim the request at the first one.

    The Host header and the TLS server name (SNI, and the name the certificate is checked against) stay the
    host's own.

    Raises:
      InternalAddress: the host resolves to an internal address, or to none.
      httpx.InvalidURL: the URL cannot be parsed.
    """
    target = httpx.URL(url)
    host = _host(target)
    address = public_addresses(host)[0]
    return Pinned(
        target.copy_with(host=address),
        {"Host": target.netloc.decode("ascii")},
        {"sni_hostname": host} if target.scheme == "https" else {},
    )


def _host(url: httpx.URL) -> str:
    """The host as the resolver and TLS see it (IDNA-encoded; an IPv6 address without brackets)."""
    return url.raw_host.decode("ascii")


def backoff_s(attempts: int) -> float:
    """Delay after `attempts` failed deliveries."""
    return min(BASE_DELAY_S * 2 ** max(attempts - 1, 0), 3600.0)


def _due(now: float, limit: int) -> list[tuple[Callback, str]]:
    rows = (
        Callback.select(Callback, Job.account)
        .join(Job)
        .where(Callback.status == "pending", Callback.next_at <= now)
        .order_by(Callback.next_at)
        .limit(limit)
    )
    secrets = {
        a.id: a.webhook_secret
        for a in Account.select(Account.id, Account.webhook_secret).where(
            Account.id.in_({r.job.account_id for r in rows})
        )
    }
    return [(r, secrets[r.job.account_id]) for r in rows]


def _record(callback_id: int, delivered: bool, error: str | None, final: bool = False) -> None:
    callback = Callback.get_by_id(callback_id)
    callback.attempts += 1
    if delivered:
        callback.status, callback.last_error = "delivered", None
    else:
        callback.last_error = error
        if final or callback.attempts >= MAX_ATTEMPTS:
            callback.status = "failed"
        else:
            callback.next_at = time.time() + backoff_s(callback.attempts)
    callback.save()


class CallbackSender(BackgroundLoop, Hooks):
    """Delivers due callbacks every second (or when woken)."""

    def __init__(self, store: Store, allow_private: bool, timeout_s: float = 10.0) -> None:
        super().__init__()
        self.store = store
        self.allow_private = allow_private
        self._http = httpx.AsyncClient(timeout=timeout_s, follow_redirects=False)

    async def stop(self) -> None:
        await super().stop()
        await self._http.aclose()

    def after_applied(self, applied: Applied) -> None:
        """Hook: a job that just ended has its callback row written; deliver it now rather than next second."""
        if applied.job_status not in ACTIVE_JOB:
            self.wake_threadsafe()

    async def run_once(self) -> bool:
        due = await self.store.read(_due, time.time(), 50)
        await asyncio.gather(*(self._deliver(cb, secret) for cb, secret in due))
        return len(due) == 50

    def _target(self, url: str) -> Pinned:
        """Where to send: the URL as it is if the operator allows private callbacks, else `pin`ned, checked again
        now and not only at submit (the host's DNS answer may have changed since)."""
        return Pinned(httpx.URL(url), {}, {}) if self.allow_private else pin(url)

    async def _deliver(self, callback: Callback, secret: str) -> None:
        body = json.dumps(callback.body, separators=(",", ":"), sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(body, secret),
            "X-Computalot-Event": "job.finished",
        }
        try:
            target = await asyncio.get_running_loop().run_in_executor(None, self._target, callback.url)
        except (InternalAddress, httpx.InvalidURL) as exc:
            what = "points at an internal address" if isinstance(exc, InternalAddress) else "is not a valid URL"
            await self.store.write(_record, callback.id, False, f"refused: {callback.url} {what} ({exc})", True)
            return
        try:
            response = await self._http.post(
                target.url, content=body, headers={**headers, **target.headers}, extensions=target.extensions
            )
            if response.is_success:
                await self.store.write(_record, callback.id, True, None)
                logger.info("job=%s callback delivered", callback.job_id)
                return
            error = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        logger.warning("job=%s callback attempt %d failed: %s", callback.job_id, callback.attempts + 1, error)
        await self.store.write(_record, callback.id, False, error)
