"""`computalot-controller`: the controller alone, for a distributed deployment."""

from __future__ import annotations

import logging
from pathlib import Path

import click
from aiohttp import web

from controller.app import create_app
from controller.core.settings import ConfigError, Settings


@click.command()
@click.option("--data-dir", type=click.Path(path_type=Path), help="Database (SQLite), code and artifacts.")
@click.option(
    "--database-url", help="sqlite:///path or postgresql://user:pass@host:5432/db (env COMPUTALOT_DATABASE_URL)."
)
@click.option("--broker-url", help="amqp://…, redis://… or memory:// (env COMPUTALOT_BROKER_URL).")
@click.option("--host", help="Interface to bind (default 127.0.0.1).")
@click.option("--port", type=int, help="HTTP port (default 8470).")
@click.option("--zmq-host", help="Interface of the agent-facing ZeroMQ sockets (default 127.0.0.1).")
@click.option(
    "--x402-facilitator",
    help="Who settles x402 top-ups: an x402 facilitator's URL, or local-dev (development only: credits "
    "verified authorizations without moving funds; a warning says so at start). Unset: payments are refused "
    "(env COMPUTALOT_X402_FACILITATOR).",
)
@click.option("--log-level", default="INFO", show_default=True)
def main(
    data_dir: Path | None,
    database_url: str | None,
    broker_url: str | None,
    host: str | None,
    port: int | None,
    zmq_host: str | None,
    x402_facilitator: str | None,
    log_level: str,
) -> None:
    """Serve the REST API, plan jobs and consume task results."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env(
            data_dir=data_dir,
            database_url=database_url,
            broker_url=broker_url,
            host=host,
            port=port,
            zmq_host=zmq_host,
            x402_facilitator=x402_facilitator,
        )
        web.run_app(create_app(settings), host=settings.host, port=settings.port, print=click.echo)
    except ConfigError as exc:  # a setting or the database's schema: the message says what to change, no traceback
        raise click.ClickException(exc.message) from None


if __name__ == "__main__":
    main()
