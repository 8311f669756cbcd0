"""The artifact service's place in the app: built in a cleanup context, with a periodic sweep of expired uploads."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from controller.artifacts import multipart
from controller.artifacts.service import ARTIFACTS, Artifacts
from controller.artifacts.signing import Signer
from controller.artifacts.store import LocalStore
from controller.core.web import SETTINGS, STORE

logger = logging.getLogger(__name__)

#: Seconds between sweeps of expired multipart uploads and stale staged files.
SWEEP_INTERVAL_S = 600.0
#: File in the data dir holding the secret that signs upload URLs.
SECRET_FILE = "artifact-signing-key"


async def artifacts_ctx(app: web.Application) -> AsyncIterator[None]:
    """Open the local store and the URL signer; sweep expired uploads until the app stops."""
    settings = app[SETTINGS]
    artifacts = Artifacts(
        settings, app[STORE], LocalStore(settings.artifacts_dir), Signer.from_file(settings.data_dir / SECRET_FILE)
    )
    app[ARTIFACTS] = artifacts
    sweeper = asyncio.create_task(_sweep_forever(artifacts))
    yield
    sweeper.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sweeper


async def _sweep_forever(artifacts: Artifacts) -> None:
    while True:
        try:
            await multipart.expire(artifacts)
        except Exception:
            logger.exception("sweeping expired uploads failed; retrying next round")
        await asyncio.sleep(SWEEP_INTERVAL_S)
