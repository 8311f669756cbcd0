"""`computalot-agent`: pull and run tasks for a controller."""

from __future__ import annotations

import logging
import os
import signal
import stat
import threading
from dataclasses import replace
from pathlib import Path

import click

from agent.sandbox import SandboxError
from agent.settings import AgentSettings
from agent.worker import Agent
from broker.connection import connect

logger = logging.getLogger(__name__)

#: Environment variables that may carry the agent key (a file's path, or the key itself).
TOKEN_FILE_ENV, TOKEN_ENV = "COMPUTALOT_AGENT_TOKEN_FILE", "COMPUTALOT_AGENT_TOKEN"
#: Printed when tasks will run without the sandbox.
UNSAFE_WARNING = (
    "WARNING: --unsafe-no-sandbox: tasks run as this user with its environment, files and network. "
    "Any account that can submit a job controls this machine. Development only."
)


@click.command()
@click.option("--controller", "controller_url", envvar="COMPUTALOT_URL", required=True, help="Controller base URL.")
@click.option("--broker", "broker_url", envvar="COMPUTALOT_BROKER_URL", required=True, help="amqp://… or redis://…")
@click.option(
    "--token-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar=TOKEN_FILE_ENV,
    show_envvar=True,
    help=f"File holding the agent key (computalot-admin create-agent); else ${TOKEN_ENV} holds the key itself.",
)
@click.option("--token", hidden=True, help="Refused: a key in argv is visible to every user of the host.")
@click.option("--slots", type=int, default=0, help="Tasks run at once (default: one per CPU).")
@click.option("--profile", "profiles", multiple=True, default=("cpu",), show_default=True, help="Profiles served.")
@click.option("--cache-dir", type=click.Path(path_type=Path), help="Where project code and task scratch live.")
@click.option("--sandbox-dir", type=click.Path(path_type=Path), help="Where attempts' sandbox directories live.")
@click.option("--sandbox-uid-base", type=int, help="First host uid of the range tasks run as (one per slot).")
@click.option(
    "--sandbox-ro-path", "ro_paths", multiple=True, type=click.Path(path_type=Path), help="Host dir tasks may read."
)
@click.option(
    "--unsafe-no-sandbox",
    is_flag=True,
    help="DEVELOPMENT ONLY: run tasks as this agent's user, with its files, environment and network.",
)
@click.option("--log-level", default="INFO", show_default=True)
def main(
    controller_url: str,
    broker_url: str,
    token_file: Path | None,
    token: str | None,
    slots: int,
    profiles: tuple[str, ...],
    cache_dir: Path | None,
    sandbox_dir: Path | None,
    sandbox_uid_base: int | None,
    ro_paths: tuple[Path, ...],
    unsafe_no_sandbox: bool,
    log_level: str,
) -> None:
    """Run tasks from the broker under the runner protocol until SIGINT/SIGTERM.

    The agent's id is its key's: the controller names it at start.
    """
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if token is not None:
        raise click.UsageError(
            f"an agent key on the command line is visible to every user of this host (ps, /proc/*/cmdline); "
            f"put it in a file for --token-file (or ${TOKEN_FILE_ENV}), or in ${TOKEN_ENV}"
        )
    # read once, then dropped from the environment the agent's task processes could inherit
    key = read_key(token_file, os.environ.pop(TOKEN_ENV, None))
    settings = AgentSettings(
        controller_url=controller_url, broker_url=broker_url, token=key, slots=slots, profiles=tuple(profiles)
    )
    if cache_dir is not None:
        settings = replace(settings, cache_dir=cache_dir)
    if sandbox_dir is not None:
        settings = replace(settings, sandbox_dir=sandbox_dir)
    if sandbox_uid_base is not None:
        settings = replace(settings, sandbox_uid_base=sandbox_uid_base)
    settings = replace(settings, sandbox=not unsafe_no_sandbox, sandbox_ro_paths=tuple(ro_paths))
    if unsafe_no_sandbox:
        click.secho(UNSAFE_WARNING, fg="red", bold=True, err=True)
    broker = connect(broker_url)
    agent = Agent(settings, broker)
    try:
        agent.start()
    except SandboxError as exc:
        broker.close()
        raise click.ClickException(f"refusing to run tasks: {exc}") from None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    click.echo(f"agent {agent.settings.agent_id} running; Ctrl-C to stop")
    stop.wait()
    agent.stop()
    broker.close()


def read_key(token_file: Path | None, from_env: str | None) -> str:
    """The agent key, from `token_file` if given, else from the environment's value.

    Raises:
      click.UsageError: neither holds a key.
    """
    if token_file is not None:
        if token_file.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            logger.warning("%s is readable by other users of this host; chmod 600 it", token_file)
        key = token_file.read_text().strip()
        if not key:
            raise click.UsageError(f"{token_file} is empty; write the agent key into it")
        return key
    if from_env and from_env.strip():
        return from_env.strip()
    raise click.UsageError(
        f"no agent key: pass --token-file PATH (or ${TOKEN_FILE_ENV}), or set ${TOKEN_ENV}; "
        "make one with computalot-admin create-agent NAME --key-file PATH"
    )


if __name__ == "__main__":
    main()
