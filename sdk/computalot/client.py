"""`ComputalotClient`: a thin synchronous client for the controller's REST API."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from . import _artifacts, _money
from ._version import __version__
from .errors import ConnectionFailed, from_response
from .streams import StreamEvent, follow
from .tarball import build_tarball

logger = logging.getLogger(__name__)

#: Used when neither the constructor nor COMPUTALOT_URL names a controller.
DEFAULT_URL = "http://127.0.0.1:8470"
#: Job statuses after which nothing changes.
TERMINAL_STATUSES = frozenset({"completed", "partial", "failed", "cancelled"})
#: `wait` backs its poll interval off by this factor up to `_MAX_POLL_S`.
_POLL_BACKOFF = 1.5
_MAX_POLL_S = 5.0


def resolve_url(controller_url: str | None = None) -> str:
    """The controller URL: the argument, else COMPUTALOT_URL, else `DEFAULT_URL`; without a trailing slash."""
    url = controller_url or os.environ.get("COMPUTALOT_URL") or DEFAULT_URL
    return url.rstrip("/")


def resolve_token(token: str | None = None) -> str | None:
    """The bearer token: the argument, else COMPUTALOT_TOKEN, else None (public endpoints only)."""
    return token or os.environ.get("COMPUTALOT_TOKEN") or None


def _seg(value: str) -> str:
    """One URL path segment, percent-encoded."""
    return quote(str(value), safe="")


def _params(**values: Any) -> dict[str, Any]:
    """Query parameters without the ones left as None."""
    return {k: v for k, v in values.items() if v is not None}


class ComputalotClient:
    """Client for one controller; every method raises a `ComputalotError` subclass on a non-2xx answer.

    Raises:
        ConnectionFailed: the controller could not be reached.
    """

    def __init__(self, controller_url: str | None = None, token: str | None = None, *, timeout_s: float = 30.0) -> None:
        self.controller_url = resolve_url(controller_url)
        headers = {"User-Agent": f"computalot-python/{__version__}", "Accept": "application/json"}
        if token := resolve_token(token):
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(base_url=self.controller_url, headers=headers, timeout=timeout_s)

    def __repr__(self) -> str:
        return f"ComputalotClient({self.controller_url!r})"

    def __enter__(self) -> ComputalotClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the underlying HTTP connections."""
        self._http.close()

    # -- transport ---------------------------------------------------------------------------------------------

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send one request; raise the mapped error for a non-2xx answer."""
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise ConnectionFailed(
                f"cannot reach {self.controller_url}: {exc}",
                recommended_action="Check --url / COMPUTALOT_URL and that the controller is running.",
            ) from exc
        logger.debug("%s %s -> %s", method, path, response.status_code)
        if not response.is_success:
            raise from_response(response.status_code, response.content)
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """Send one request and decode its JSON answer ({} for an empty body)."""
        response = self._send(method, path, **kwargs)
        return response.json() if response.content else {}

    # -- recipes -----------------------------------------------------------------------------------------------

    def list_recipes(self) -> dict[str, Any]:
        """`GET /api/v1/recipes`: `{"recipes": [...]}`."""
        return self._json("GET", "/api/v1/recipes")

    def get_recipe(self, name: str) -> dict[str, Any]:
        """`GET /api/v1/recipes/:name`: the recipe's schema and operations."""
        return self._json("GET", f"/api/v1/recipes/{_seg(name)}")

    def submit_recipe(
        self, name: str, payload: dict[str, Any], *, idempotency_key: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        """`POST /api/v1/recipes/:name/jobs` with `{"payload": payload, **fields}`: the created job."""
        return self._json(
            "POST",
            f"/api/v1/recipes/{_seg(name)}/jobs",
            json={"payload": payload, **fields},
            headers=_idempotency(idempotency_key),
        )

    # -- jobs --------------------------------------------------------------------------------------------------

    def submit_job(
        self, spec: dict[str, Any] | None = None, *, idempotency_key: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        """`POST /api/v1/jobs` with `spec` updated by `fields`: the created job (a repeat key returns the first)."""
        body = {**(spec or {}), **fields}
        return self._json("POST", "/api/v1/jobs", json=body, headers=_idempotency(idempotency_key))

    def list_jobs(
        self,
        limit: int = 50,
        status: str | None = None,
        project: str | None = None,
        tag: str | None = None,
        before: str | None = None,
    ) -> dict[str, Any]:
        """`GET /api/v1/jobs`, newest first: `{"jobs": [...], "next_before": cursor or None}`."""
        params = _params(limit=limit, status=status, project=project, tag=tag, before=before)
        return self._json("GET", "/api/v1/jobs", params=params)

    def get_job(self, job_id: str) -> dict[str, Any]:
        """`GET /api/v1/jobs/:id`: status, task counts, timestamps, error and recommended_action."""
        return self._json("GET", f"/api/v1/jobs/{_seg(job_id)}")

    def get_tasks(self, job_id: str, limit: int | None = None, offset: int | None = None) -> dict[str, Any]:
        """`GET /api/v1/jobs/:id/tasks`: per-task status, attempts, errors and progress."""
        return self._json("GET", f"/api/v1/jobs/{_seg(job_id)}/tasks", params=_params(limit=limit, offset=offset))

    def get_output(self, job_id: str) -> dict[str, Any]:
        """`GET /api/v1/jobs/:id/output`: stdout and stderr per task."""
        return self._json("GET", f"/api/v1/jobs/{_seg(job_id)}/output")

    def get_events(self, job_id: str, limit: int = 200, after: int | None = None) -> dict[str, Any]:
        """`GET /api/v1/jobs/:id/events`: lifecycle events after sequence `after`."""
        return self._json("GET", f"/api/v1/jobs/{_seg(job_id)}/events", params=_params(limit=limit, after=after))

    def cancel_job(self, job_id: str) -> dict[str, Any]:
        """`PUT /api/v1/jobs/:id/cancel`; raises `Conflict` if the job already finished."""
        return self._json("PUT", f"/api/v1/jobs/{_seg(job_id)}/cancel")

    def get_results(self, job_id: str) -> dict[str, Any]:
        """`GET /api/v1/results/:job_id`: summary, aggregate_result and per-task results."""
        return self._json("GET", f"/api/v1/results/{_seg(job_id)}")

    def wait(self, job_id: str, *, timeout_s: float | None = None, poll_s: float = 1.0) -> dict[str, Any]:
        """Poll the job until it is terminal, then return `get_results(job_id)`.

        Raises:
            TimeoutError: the job is still not terminal after `timeout_s` seconds.
        """
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        delay = poll_s
        while (status := self.get_job(job_id).get("status")) not in TERMINAL_STATUSES:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise TimeoutError(f"job {job_id} is still {status} after {timeout_s}s")
            time.sleep(delay if remaining is None else min(delay, remaining))
            delay = min(delay * _POLL_BACKOFF, max(poll_s, _MAX_POLL_S))
        logger.debug("job=%s finished status=%s", job_id, status)
        return self.get_results(job_id)

    # -- live streams ------------------------------------------------------------------------------------------

    def stream(self, job_id: str, *, last_event_id: int | None = None, reconnect: bool = True) -> Iterator[StreamEvent]:
        """`GET /api/v1/jobs/:id/stream`: the job's events (from the first, or after `last_event_id`), then `end`.

        A dropped connection is resumed with `Last-Event-ID`: no event is yielded twice or skipped.
        """
        path = f"/api/v1/jobs/{_seg(job_id)}/stream"
        return follow(self._http, path, last_event_id=last_event_id, reconnect=reconnect)

    def watch(
        self, job_ids: Iterable[str], *, last_event_id: int | None = None, reconnect: bool = True
    ) -> Iterator[StreamEvent]:
        """`GET /api/v1/jobs/watch?ids=…` (at most 100 jobs): their events, each with `job_id`, then `end`."""
        params = {"ids": ",".join(job_ids)}
        return follow(self._http, "/api/v1/jobs/watch", params, last_event_id=last_event_id, reconnect=reconnect)

    def stream_project(
        self, name: str, *, last_event_id: int | None = None, reconnect: bool = True
    ) -> Iterator[StreamEvent]:
        """`GET /api/v1/projects/:name/stream`: pushes and its jobs' status and result events; never ends."""
        path = f"/api/v1/projects/{_seg(name)}/stream"
        return follow(self._http, path, last_event_id=last_event_id, reconnect=reconnect)

    def stream_endpoint(self) -> dict[str, Any]:
        """`GET /api/v1/account/stream-endpoint`: `{endpoint, account_id, topic, ...}` for `computalot.subscribe`."""
        return self._json("GET", "/api/v1/account/stream-endpoint")

    # -- projects ----------------------------------------------------------------------------------------------

    def create_project(
        self, name: str, *, remote_dir: str | None = None, description: str | None = None
    ) -> dict[str, Any]:
        """`POST /api/v1/projects`: the created project; raises `Conflict` if the name is taken."""
        body = _params(name=name, remote_dir=remote_dir, description=description)
        return self._json("POST", "/api/v1/projects", json=body)

    def list_projects(self) -> dict[str, Any]:
        """`GET /api/v1/projects`: `{"projects": [...]}`."""
        return self._json("GET", "/api/v1/projects")

    def get_project(self, name: str) -> dict[str, Any]:
        """`GET /api/v1/projects/:name`: the project's config."""
        return self._json("GET", f"/api/v1/projects/{_seg(name)}")

    def project_status(self, name: str) -> dict[str, Any]:
        """`GET /api/v1/projects/:name/status`: active revision and readiness."""
        return self._json("GET", f"/api/v1/projects/{_seg(name)}/status")

    def push_project(self, name: str, directory: str | os.PathLike[str]) -> dict[str, Any]:
        """Pack `directory` with `build_tarball` and push it raw: revision, content_hash, files, tarball_diff, ..."""
        body = build_tarball(directory)
        logger.debug("project=%s pushing %d bytes", name, len(body))
        return self._json(
            "POST",
            f"/api/v1/projects/{_seg(name)}/push",
            content=body,
            headers={"Content-Type": "application/gzip"},
        )

    # -- artifacts ---------------------------------------------------------------------------------------------

    def upload_artifact(
        self,
        path: str | os.PathLike[str],
        *,
        filename: str | None = None,
        progress: bool = True,
        method: str = "auto",
        part_size: int | None = None,
        on_part: Callable[[int], None] | None = None,
    ) -> dict[str, Any]:
        """Upload a file as an artifact: `{id, sha256, size, filename, created_at}` (the same id for the same bytes).

        `method` "auto" sends files under 64 MiB in one raw request and larger ones as a resumable multipart
        upload: its progress is kept in `~/.cache/computalot/uploads`, so running the same upload again after an
        interruption sends only the parts the server lacks. "direct" hashes the file first and uploads it to a
        signed URL. `on_part(number)` is called after each part of a multipart upload.
        """
        return _artifacts.upload(
            self, path, filename=filename, progress=progress, method=method, part_size=part_size, on_part=on_part
        )

    def download_artifact(self, artifact_id: str, path: str | os.PathLike[str], *, progress: bool = False) -> Path:
        """Stream an artifact to `path` (verified against its sha256); a partial `path.part` is resumed with Range."""
        return _artifacts.download(self, artifact_id, path, progress=progress)

    def list_artifacts(self, limit: int = 50, before: str | None = None, prefix: str | None = None) -> dict[str, Any]:
        """`GET /api/v1/artifacts`, newest first: `{"artifacts": [...], "next_before": cursor or None}`."""
        return self._json("GET", "/api/v1/artifacts", params=_params(limit=limit, before=before, prefix=prefix))

    def get_artifact(self, artifact_id: str) -> dict[str, Any]:
        """`GET /api/v1/artifacts/:id/meta`: the artifact's metadata, without its bytes."""
        return self._json("GET", f"/api/v1/artifacts/{_seg(artifact_id)}/meta")

    def delete_artifact(self, artifact_id: str) -> dict[str, Any]:
        """`DELETE /api/v1/artifacts/:id`."""
        return self._json("DELETE", f"/api/v1/artifacts/{_seg(artifact_id)}")

    # -- money -------------------------------------------------------------------------------------------------

    def list_presets(self) -> dict[str, Any]:
        """`GET /api/v1/presets`: `{"presets": [{name, profile, requirements, usd_per_hour}], "recipes": [...]}`."""
        return self._json("GET", "/api/v1/presets")

    def get_balance(self) -> dict[str, Any]:
        """`GET /api/v1/account/balance`: `ledger_balance_usd`, `held_usd`, `available_usd`."""
        return self._json("GET", "/api/v1/account/balance")

    def list_holds(self) -> dict[str, Any]:
        """`GET /api/v1/account/holds`: the active holds of your jobs."""
        return self._json("GET", "/api/v1/account/holds")

    def list_ledger(self, limit: int = 50, before: int | None = None) -> dict[str, Any]:
        """`GET /api/v1/account/ledger`, newest first: `{"entries": [...], "next_before": cursor or None}`."""
        return self._json("GET", "/api/v1/account/ledger", params=_params(limit=limit, before=before))

    def list_quotes(self) -> dict[str, Any]:
        """`GET /api/v1/account/quotes`: open top-up and shortfall quotes."""
        return self._json("GET", "/api/v1/account/quotes")

    def create_topup_quote(self, amount_usd: float | str) -> dict[str, Any]:
        """`POST /api/v1/account/quotes/topup` (a 402 by design): `{quote, x402Version, accepts, ...}`."""
        return _money.create_topup_quote(self, amount_usd)

    def pay_quote_x402(self, quote_id: str, private_key: str) -> dict[str, Any]:
        """Pay a quote with USDC signed by `private_key` (x402); needs `pip install 'computalot[x402]'`.

        Returns `{quote, credited_usd, transaction, network, payer, balance, payment_response}`.
        """
        return _money.pay_quote(self, quote_id, private_key)

    def top_up_x402(self, amount_usd: float | str, private_key: str) -> dict[str, Any]:
        """Create a top-up quote of `amount_usd` and pay it (see `pay_quote_x402`)."""
        quote = self.create_topup_quote(amount_usd)["quote"]
        return self.pay_quote_x402(quote["id"], private_key)

    def init_project(self, name: str) -> dict[str, Any]:
        """`POST /api/v1/projects/:name/init` (202); raises `PaymentRequired` below $5 available."""
        return self._json("POST", f"/api/v1/projects/{_seg(name)}/init")

    # -- identity and feedback ---------------------------------------------------------------------------------

    def sign_in_with_wallet(self, private_key: str, chain: str = "base") -> dict[str, Any]:
        """Sign in with a whitelisted wallet; later calls use the `fls_` session token (24 h) it returns."""
        return _money.sign_in(self, private_key, chain)

    def send_feedback(self, type: str, title: str, description: str) -> dict[str, Any]:
        """`POST /api/v1/feedback`: type is bug, feature_request, provisioning or job_type_request."""
        return self._json("POST", "/api/v1/feedback", json={"type": type, "title": title, "description": description})

    # -- public ------------------------------------------------------------------------------------------------

    def docs_llm(self) -> str:
        """`GET /llms.txt`: the compact API reference as text."""
        return self._send("GET", "/llms.txt", headers={"Accept": "text/plain"}).text

    def health(self) -> dict[str, Any]:
        """`GET /health`: the liveness probe."""
        return self._json("GET", "/health")


def _idempotency(key: str | None) -> dict[str, str]:
    """The Idempotency-Key header when a key is given."""
    return {"Idempotency-Key": key} if key else {}
