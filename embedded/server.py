"""`computalot-server up`: the whole platform on one machine (controller, in-process broker, one agent)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal
from pathlib import Path

import click
from aiohttp import web

from agent.cli import UNSAFE_WARNING
from agent.sandbox import SandboxError
from agent.settings import AgentSettings
from agent.worker import Agent
from broker.connection import connect
from controller.admin.bootstrap import ensure_admin_token, ensure_agent_token
from controller.app import create_app
from controller.core.settings import LOCAL_DEV_FACILITATOR, LOCAL_DEV_WARNING, Settings
from controller.core.web import STORE

logger = logging.getLogger(__name__)


async def serve(settings: Settings, slots: int, ready: asyncio.Event | None = None, sandbox: bool = True) -> None:
    """Run controller and agent until SIGINT/SIGTERM (or until cancelled)."""
    broker = connect(settings.broker_url)
    app = create_app(settings, broker=broker)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise click.ClickException(
            f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}; use --port"
        ) from None
    token = await app[STORE].write(ensure_admin_token, settings.data_dir)
    # the in-process agent holds an agent key (the agent routes, for its own attempts), never the admin token
    agent_token = await app[STORE].write(ensure_agent_token, settings.data_dir)
    loop = asyncio.get_running_loop()
    agent = Agent(
        AgentSettings(
            controller_url=settings.base_url,
            broker_url=settings.broker_url,
            token=agent_token,
            cache_dir=settings.data_dir / "agent",
            slots=slots,
            sandbox=sandbox,
        ),
        broker,
    )
    try:
        await loop.run_in_executor(None, agent.start)
    except SandboxError as exc:
        await runner.cleanup()
        broker.close()
        raise click.ClickException(f"refusing to run tasks: {exc}") from None
    click.echo(f"Computalot is up at {settings.base_url}")
    click.echo(f"Admin token: {token}")
    click.echo(f"Try: curl -H 'Authorization: Bearer {token}' {settings.base_url}/api/v1/jobs")
    if settings.x402_facilitator == LOCAL_DEV_FACILITATOR:
        click.echo(f"Note: {LOCAL_DEV_WARNING}")
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if ready is not None:
        ready.set()
    try:
        await stop.wait()
    finally:
        click.echo("shutting down")
        await loop.run_in_executor(None, agent.stop)
        await runner.cleanup()
        broker.close()


@click.group()
def main() -> None:
    """Computalot: run the whole platform on this machine."""


@main.command()
@click.option("--data-dir", type=click.Path(path_type=Path), help="Where the database, code and artifacts live.")
@click.option("--host", help="Interface to bind (default 127.0.0.1).")
@click.option("--port", type=int, help="HTTP port (default 8470).")
@click.option("--slots", type=int, default=0, help="Tasks the local agent runs at once (default: one per CPU).")
@click.option(
    "--x402-facilitator",
    help="Who settles x402 top-ups: an x402 facilitator's URL, or local-dev (the default here when none is "
    "configured: credits verified authorizations without moving funds).",
)
@click.option(
    "--unsafe-no-sandbox",
    is_flag=True,
    help="DEVELOPMENT ONLY: run tasks as this user, with its files, environment and network.",
)
@click.option("--log-level", default="INFO", show_default=True)
def up(
    data_dir: Path | None,
    host: str | None,
    port: int | None,
    slots: int,
    x402_facilitator: str | None,
    unsafe_no_sandbox: bool,
    log_level: str,
) -> None:
    """Start controller, in-process broker and one local agent; print the URL and an admin token."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # One command keeps working across upgrades: the embedded platform migrates its own database.
    settings = Settings.from_env(
        data_dir=data_dir, host=host, port=port, auto_migrate=True, x402_facilitator=x402_facilitator
    )
    if not settings.x402_facilitator:  # a platform on one machine: top-ups work out of the box, and it says so
        settings = dataclasses.replace(settings, x402_facilitator=LOCAL_DEV_FACILITATOR)
    if unsafe_no_sandbox:
        click.secho(UNSAFE_WARNING, fg="red", bold=True, err=True)
    asyncio.run(serve(settings, slots, sandbox=not unsafe_no_sandbox))


if __name__ == "__main__":
    main()
