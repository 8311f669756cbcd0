"""The `computalot` command line: jobs, results, projects and docs over `ComputalotClient`."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from . import _render as render
from . import _watch
from ._artifacts_cli import artifacts
from ._money_cli import COMMANDS as MONEY_COMMANDS
from ._version import __version__
from .client import ComputalotClient
from .errors import ComputalotError, NotFound, PaymentRequired, ValidationError

JOB_TYPES = ("structured_runner", "sweep", "map_reduce", "benchmark")


class _State:
    """Global options, and the client built from them on first use."""

    def __init__(self, url: str | None, token: str | None, as_json: bool) -> None:
        self.url, self.token, self.as_json = url, token, as_json
        self._client: ComputalotClient | None = None

    @property
    def client(self) -> ComputalotClient:
        """The client, created on first use and closed when the command ends."""
        if self._client is None:
            self._client = ComputalotClient(self.url, self.token)
            click.get_current_context().call_on_close(self._client.close)
        return self._client


class _Group(click.Group):
    """A group that reports API errors and timeouts as `error <code>: <message>` and exits 1."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the subcommand; turn SDK errors into a short report on stderr."""
        try:
            return super().invoke(ctx)
        except ComputalotError as exc:
            _report(exc)
        except TimeoutError as exc:
            click.echo(f"error timeout: {exc}", err=True)
        ctx.exit(1)


def _report(exc: ComputalotError) -> None:
    """Print an API error, its invalid fields, quote and recommended action to stderr."""
    click.echo(f"error {exc.code}: {exc.message}", err=True)
    if isinstance(exc, ValidationError):
        for field in exc.fields:
            click.echo(f"  {field.get('field')}: {field.get('message')}", err=True)
    if isinstance(exc, PaymentRequired) and exc.quote:
        click.echo(f"quote: {json.dumps(exc.quote)}", err=True)
    if exc.recommended_action:
        click.echo(f"recommended action: {exc.recommended_action}", err=True)


def _json_value(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    """Parse an option given as JSON text or `@path` to a JSON file."""
    if value is None:
        return None
    try:
        text = Path(value[1:]).read_text(encoding="utf-8") if value.startswith("@") else value
        return json.loads(text)
    except (OSError, ValueError) as exc:
        raise click.BadParameter(f"expected JSON or @file.json: {exc}", ctx=ctx, param=param) from exc


def _command_value(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str] | None:
    """Split a runner command given as one shell-quoted string into its argv list."""
    if value is None:
        return None
    try:
        argv = shlex.split(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from exc
    if not argv:
        raise click.BadParameter("must name a command", ctx=ctx, param=param)
    return argv


def _emit(state: _State, answer: Any, view: Callable[[Any], Iterable[str] | Table]) -> None:
    """Print the answer as raw JSON under --json, else as `view` renders it (lines or a table)."""
    if state.as_json:
        render.echo_json(answer)
        return
    shown = view(answer)
    if isinstance(shown, Table):
        render.echo_table(shown)
    else:
        render.echo_lines(shown)


pass_state = click.make_pass_decorator(_State)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--url", envvar="COMPUTALOT_URL", show_envvar=True, help="Controller URL [default: http://127.0.0.1:8470]."
)
@click.option("--token", envvar="COMPUTALOT_TOKEN", show_envvar=True, help="API key (flk_...) or session token.")
@click.option("--json", "as_json", is_flag=True, help="Print the server's raw JSON.")
@click.version_option(__version__, prog_name="computalot")
@click.pass_context
def cli(ctx: click.Context, url: str | None, token: str | None, as_json: bool) -> None:
    """Submit and inspect Computalot jobs, push projects and read the docs."""
    ctx.obj = _State(url, token, as_json)


@cli.command()
@click.option("--limit", default=5, show_default=True, type=click.IntRange(1), help="How many jobs, newest first.")
@click.option("--status", help="Only jobs with this status.")
@click.option("--project", help="Only jobs of this project.")
@click.option("--tag", help="Only jobs with this tag.")
@click.option("--before", help="Cursor from a previous page's next_before.")
@pass_state
def jobs(
    state: _State, limit: int, status: str | None, project: str | None, tag: str | None, before: str | None
) -> None:
    """List recent jobs, newest first."""
    answer = state.client.list_jobs(limit=limit, status=status, project=project, tag=tag, before=before)
    _emit(state, answer, lambda a: render.jobs_table(a.get("jobs", []), a.get("next_before")))


@cli.command()
@click.argument("job_id")
@pass_state
def job(state: _State, job_id: str) -> None:
    """Show one job: status, tasks, error and what to do."""
    _emit(state, state.client.get_job(job_id), render.job_lines)


@cli.command()
@click.option("--spec", "spec_file", type=click.Path(exists=True, dir_okay=False), help="Job spec JSON file.")
@click.option("--project", "-p", help="Project to run in (required without --spec).")
@click.option("--command", "-c", "command", callback=_command_value, help='Runner command, e.g. "python3 run.py".')
@click.option("--type", "job_type", type=click.Choice(JOB_TYPES), help="Job type [server default: structured_runner].")
@click.option("--payload", callback=_json_value, help="Payload as JSON or @file.json.")
@click.option("--fan-out", callback=_json_value, help='Fan-out as JSON, e.g. \'{"by": "models"}\'.')
@click.option("--timeout-s", type=click.IntRange(1), help="Per-task timeout in seconds.")
@click.option("--max-retries", type=click.IntRange(0), help="Retries per failed task.")
@click.option("--tag", "tags", multiple=True, help="Tag the job (repeatable).")
@click.option("--idempotency-key", help="Repeat-safe submit: the same key and body return the first job.")
@click.option("--wait", "wait_", is_flag=True, help="Wait for the job and print its results.")
@pass_state
def submit(state: _State, /, spec_file: str | None, wait_: bool, idempotency_key: str | None, **options: Any) -> None:
    """Submit a job and print its id.

    Build the job from options, or from a --spec JSON file that options given alongside override.
    """
    spec = _load_spec(spec_file) if spec_file else {}
    spec.update(_spec_fields(**options))
    if not spec_file and "project" not in spec:
        raise click.UsageError("--project is required unless --spec is given")
    answer = state.client.submit_job(spec, idempotency_key=idempotency_key)
    job_id = render.job_id_of(answer)
    if not wait_:
        _emit(state, answer, lambda a: [job_id])
        return
    if not state.as_json:
        click.echo(job_id)
    _emit(state, state.client.wait(job_id), render.results_lines)


def _load_spec(path: str) -> dict[str, Any]:
    """Read a job spec file, which must hold one JSON object."""
    try:
        spec = json.loads(Path(path).read_text(encoding="utf-8"))
    except ValueError as exc:
        raise click.BadParameter(f"{path}: not JSON: {exc}", param_hint="--spec") from exc
    if not isinstance(spec, dict):
        raise click.BadParameter(f"{path}: expected a JSON object", param_hint="--spec")
    return spec


def _spec_fields(
    project: str | None,
    command: list[str] | None,
    job_type: str | None,
    payload: Any,
    fan_out: Any,
    timeout_s: int | None,
    max_retries: int | None,
    tags: tuple[str, ...],
) -> dict[str, Any]:
    """The job fields given as options, under their wire names."""
    fields = {
        "project": project,
        "type": job_type,
        "runner_command": command,
        "payload": payload,
        "fan_out": fan_out,
        "timeout_s": timeout_s,
        "max_retries": max_retries,
        "tags": list(tags) or None,
    }
    return {k: v for k, v in fields.items() if v is not None}


@cli.command()
@click.argument("job_id")
@pass_state
def results(state: _State, job_id: str) -> None:
    """Show a job's results."""
    _emit(state, state.client.get_results(job_id), render.results_lines)


@cli.command()
@click.argument("job_id")
@click.option("--timeout-s", type=float, help="Give up (exit 1) after this many seconds.")
@click.option("--poll-s", type=float, default=1.0, show_default=True, help="First poll interval; backs off.")
@pass_state
def wait(state: _State, job_id: str, timeout_s: float | None, poll_s: float) -> None:
    """Wait until a job finishes, then show its results."""
    _emit(state, state.client.wait(job_id, timeout_s=timeout_s, poll_s=poll_s), render.results_lines)


@cli.command("watch")
@click.argument("job_id")
@pass_state
def watch_job(state: _State, job_id: str) -> None:
    """Follow a job live: tasks done, latest progress and output, then its results.

    Under --json, print each event as one JSON line instead.
    """
    if state.as_json:
        for event in state.client.stream(job_id):
            click.echo(json.dumps({"event": event.event, "id": event.id, "data": event.data}))
        return
    job = state.client.get_job(job_id)
    view = _watch.JobView(job_id, int(job.get("total_tasks") or 0))
    _watch.watch(state.client.stream(job_id), view, Console(stderr=False))
    render.echo_lines(render.results_lines(state.client.get_results(job_id)))


@cli.command()
@click.argument("job_id")
@pass_state
def cancel(state: _State, job_id: str) -> None:
    """Cancel a job; its running tasks are killed."""
    answer = state.client.cancel_job(job_id)
    _emit(state, answer, lambda a: [f"{job_id}: {a.get('status', 'cancelled')}"])


@cli.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option("--project", "-p", help="Project name [default: the directory's name].")
@click.option("--create", is_flag=True, help="Create the project first if it does not exist.")
@pass_state
def push(state: _State, directory: str, project: str | None, create: bool) -> None:
    """Pack DIRECTORY and push it as the project's new revision."""
    name = project or Path(directory).resolve().name
    if create:
        try:
            state.client.get_project(name)
        except NotFound:
            state.client.create_project(name)
            click.echo(f"created project {name}", err=True)
    _emit(state, state.client.push_project(name, directory), lambda a: render.push_lines(name, a))


@cli.command()
@pass_state
def projects(state: _State) -> None:
    """List your projects."""
    _emit(state, state.client.list_projects(), lambda a: render.projects_table(a.get("projects", [])))


@cli.command()
@pass_state
def recipes(state: _State) -> None:
    """List the sealed recipes."""
    _emit(state, state.client.list_recipes(), lambda a: render.recipes_table(a.get("recipes", [])))


@cli.command()
@click.option("--llm", is_flag=True, help="Print the compact reference served at /llms.txt.")
@pass_state
def docs(state: _State, llm: bool) -> None:
    """Print the served /llms.txt (--llm) or the docs URLs."""
    if llm:
        click.echo(state.client.docs_llm(), nl=False)
        return
    base = state.client.controller_url
    render.echo_lines(f"{base}{path}" for path in ("/docs", "/llms.txt", "/llms-full.txt", "/api/v1/docs"))


cli.add_command(artifacts)
for _command in MONEY_COMMANDS:
    cli.add_command(_command)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="computalot")
