"""`computalot-agent`: pull and run tasks for a controller."""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import replace
from pathlib import Path

import click

from agent.settings import AgentSettings
from agent.worker import Agent
from broker.connection import connect


@click.command()
@click.option("--controller", "controller_url", envvar="COMPUTALOT_URL", required=True, help="Controller base URL.")
@click.option("--broker", "broker_url", envvar="COMPUTALOT_BROKER_URL", required=True, help="amqp://… or redis://…")
@click.option("--token", envvar="COMPUTALOT_AGENT_TOKEN", required=True, help="An admin token for the agent routes.")
@click.option("--slots", type=int, default=0, help="Tasks run at once (default: one per CPU).")
@click.option("--profile", "profiles", multiple=True, default=("cpu",), show_default=True, help="Profiles served.")
@click.option("--cache-dir", type=click.Path(path_type=Path), help="Where project code and task scratch live.")
@click.option("--agent-id", help="Stable id of this agent (default: random per start).")
@click.option("--log-level", default="INFO", show_default=True)
def main(
    controller_url: str,
    broker_url: str,
    token: str,
    slots: int,
    profiles: tuple[str, ...],
    cache_dir: Path | None,
    agent_id: str | None,
    log_level: str,
) -> None:
    """Run tasks from the broker under the runner protocol until SIGINT/SIGTERM."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = AgentSettings(
        controller_url=controller_url, broker_url=broker_url, token=token, slots=slots, profiles=tuple(profiles)
    )
    if cache_dir is not None:
        settings = replace(settings, cache_dir=cache_dir)
    if agent_id is not None:
        settings = replace(settings, agent_id=agent_id)
    broker = connect(broker_url)
    agent = Agent(settings, broker)
    agent.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    click.echo(f"agent {settings.agent_id} running; Ctrl-C to stop")
    stop.wait()
    agent.stop()
    broker.close()


if __name__ == "__main__":
    main()
