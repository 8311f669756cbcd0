"""The controller application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable

import dramatiq
from aiohttp import web

from broker.connection import connect, is_memory
from controller.accounts import routes as accounts_routes
from controller.accounts.auth import ACCOUNT, check_scope, resolve_token
from controller.admin import routes as admin_routes
from controller.agents import routes as agents_routes
from controller.agents.hub import HUB, Hub
from controller.agents.reaper import Reaper
from controller.agents.roster import ROSTER, AgentRoster
from controller.artifacts import agent_routes as artifacts_agent_routes
from controller.artifacts import multipart_routes as artifacts_multipart_routes
from controller.artifacts import routes as artifacts_routes
from controller.artifacts import signed_routes as artifacts_signed_routes
from controller.artifacts.lifecycle import artifacts_ctx
from controller.billing import routes as billing_routes
from controller.core.db import Store
from controller.core.hooks import HOOKS, HookEmitter
from controller.core.settings import Settings
from controller.core.web import BROKER, SETTINGS, STORE, Handler, error_middleware
from controller.docs import downloads as docs_downloads
from controller.docs import routes as docs_routes
from controller.feedback import routes as feedback_routes
from controller.identity import routes as identity_routes
from controller.jobs import routes as jobs_routes
from controller.jobs.callbacks import CallbackSender
from controller.jobs.dispatcher import DISPATCHER, Dispatcher, requeue_all_unfinished
from controller.jobs.results import start_results_worker
from controller.live import routes as live_routes
from controller.live import setup as live
from controller.ops import metrics_routes as ops_metrics_routes
from controller.ops import routes as ops_routes
from controller.ops.metrics import METRICS, Metrics, metrics_middleware
from controller.projects import routes as projects_routes
from controller.recipes import routes as recipes_routes
from controller.schema import open_database

logger = logging.getLogger(__name__)

#: Paths anyone may call without a token.
#: /metrics is public here because it checks its own access (local requests, admin or metrics token).
PUBLIC_PATHS = frozenset(
    {"/health", "/live", "/ready", "/metrics", "/skill.md", "/llms.txt", "/llms-full.txt", "/docs"}
)
PUBLIC_PREFIXES = ("/api/v1/docs", "/docs/", "/api/v1/auth/")
PUBLIC_POSTS = frozenset({"/api/v1/feedback"})

#: Route tables added as they are; billing, identity and feedback add theirs in their own `setup(app)`.
_ROUTE_MODULES = (
    ops_routes,
    ops_metrics_routes,
    docs_routes,
    docs_downloads,
    accounts_routes,
    projects_routes,
    jobs_routes,
    live_routes,
    recipes_routes,
    agents_routes,
    artifacts_routes,
    artifacts_multipart_routes,
    artifacts_signed_routes,
    artifacts_agent_routes,
    admin_routes,
)


def is_public(request: web.Request) -> bool:
    path = request.path
    return (
        path in PUBLIC_PATHS
        or path.startswith(PUBLIC_PREFIXES)
        or (request.method == "POST" and path in PUBLIC_POSTS)
        or artifacts_signed_routes.is_signed_upload(request)
    )


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Resolve the bearer token of every protected route (unknown routes answer 404 first), and keep agent keys on
    the agent routes and every other key off them."""
    if request.match_info.http_exception is None and not is_public(request):
        account = resolve_token(request.headers.get("Authorization"))
        check_scope(request.path, account)
        request[ACCOUNT] = account
    return await handler(request)


def create_app(
    settings: Settings, *, broker: dramatiq.Broker | None = None, background: bool = True
) -> web.Application:
    """Build the controller. Pass `broker` to share an in-process broker with an embedded agent.

    `background=False` (route tests) starts the database, broker connection, artifacts and every route, but no
    agent hub, dispatcher, results worker, callback sender, reaper or live feed: the roster is empty, submitted
    attempts stay pending until `app[DISPATCHER].dispatch_once()`, and the hub and live routes answer 503.
    """
    app = web.Application(
        middlewares=[metrics_middleware, error_middleware, auth_middleware], client_max_size=settings.max_push_bytes
    )
    app[SETTINGS], app[METRICS] = settings, Metrics()
    app[HOOKS] = HookEmitter([app[METRICS]])
    for module in _ROUTE_MODULES:
        app.add_routes(module.routes)
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(artifacts_ctx)
    app.cleanup_ctx.append(_broker(broker))
    app.cleanup_ctx.append(_runtime if background else _idle_runtime)
    if background:
        live.setup(app)
    for module in (billing_routes, identity_routes, feedback_routes):
        module.setup(app)  # billing's startup settlement sweep runs after _database
    app.on_startup.append(_started)  # after every cleanup_ctx above has started
    return app


async def _started(app: web.Application) -> None:
    app[HOOKS].after_startup(app)


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(open_database(settings.effective_database_url, migrate=settings.auto_migrate), app[HOOKS])
    app[STORE] = store
    yield
    store.close()


def _broker(shared: dramatiq.Broker | None) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        app[BROKER] = shared if shared is not None else connect(app[SETTINGS].broker_url)
        yield
        if shared is None:
            app[BROKER].close()

    return ctx


async def _idle_runtime(app: web.Application) -> AsyncIterator[None]:
    """The roster (empty) and a dispatcher that only sends when called: nothing runs in the background."""
    dispatcher = Dispatcher(app[STORE], app[BROKER])
    app[ROSTER], app[DISPATCHER] = AgentRoster(app[SETTINGS].agent_ttl_s), dispatcher
    yield
    await dispatcher.stop()


async def _runtime(app: web.Application) -> AsyncIterator[None]:
    """Event hub, dispatcher, results consumer and lost-agent reaper, started and stopped together."""
    settings, store, broker = app[SETTINGS], app[STORE], app[BROKER]
    roster = AgentRoster(settings.agent_ttl_s)
    hub = Hub(
        store,
        roster,
        settings.zmq_host,
        settings.zmq_events_port,
        settings.zmq_control_port,
        settings.flush_interval_s,
    )
    dispatcher = Dispatcher(store, broker)
    callbacks = CallbackSender(store, settings.allow_private_callbacks)
    app[ROSTER], app[HUB], app[DISPATCHER] = roster, hub, dispatcher
    if is_memory(settings.broker_url):
        # The in-process broker forgot everything it held: send every unfinished attempt again.
        requeued = await store.write(requeue_all_unfinished)
        logger.info("in-process broker: %d unfinished tasks will be re-sent", requeued)
    hub.start()
    dispatcher.start()
    callbacks.start()
    app[HOOKS].add(dispatcher)  # woken after each applied result
    app[HOOKS].add(callbacks)  # woken when a result ended its job
    worker = start_results_worker(broker, store, app[HOOKS])
    reaper = Reaper(store, roster, dispatcher)
    reaper.start()
    yield
    await reaper.stop()
    worker.stop()
    await callbacks.stop()
    await dispatcher.stop()
    await hub.stop()
