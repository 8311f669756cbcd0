"""`computalot artifacts …`: upload, download, list and remove artifacts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table

from . import _render as render
from ._artifacts import METHODS


def _show(obj: Any, answer: Any, lines: list[str]) -> None:
    if obj.as_json:
        render.echo_json(answer)
    else:
        render.echo_lines(lines)


def _table(artifacts: list[dict[str, Any]], next_before: str | None) -> Table:
    caption = f"more: --before {next_before}" if next_before else None
    table = Table(box=None, pad_edge=False, caption=caption, caption_justify="left")
    for column in ("ID", "SIZE", "CREATED", "FILENAME", "SHA256"):
        table.add_column(column, no_wrap=column != "FILENAME")
    for a in artifacts:
        table.add_row(a["id"], str(a["size"]), render.when(a.get("created_at")), a["filename"], a["sha256"][:16])
    return table


@click.group()
def artifacts() -> None:
    """Upload, download, list and remove artifacts (files for task inputs; task outputs)."""


@artifacts.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--filename", help="Name to store [default: the file's name].")
@click.option(
    "--method",
    type=click.Choice(METHODS),
    default="auto",
    show_default=True,
    help="auto: raw below 64 MiB, resumable multipart above.",
)
@click.option("--part-size", type=click.IntRange(1), help="Multipart part size in bytes [server default: 16 MiB].")
@click.option("--no-progress", is_flag=True, help="Do not draw a progress bar.")
@click.pass_obj
def upload(obj: Any, path: Path, filename: str | None, method: str, part_size: int | None, no_progress: bool) -> None:
    """Upload PATH and print the artifact id; rerun an interrupted upload to resume it."""
    answer = obj.client.upload_artifact(
        path, filename=filename, method=method, part_size=part_size, progress=not no_progress and not obj.as_json
    )
    _show(obj, answer, [answer["id"]])


@artifacts.command()
@click.argument("artifact_id")
@click.argument("dest", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--no-progress", is_flag=True, help="Do not draw a progress bar.")
@click.pass_obj
def download(obj: Any, artifact_id: str, dest: Path | None, no_progress: bool) -> None:
    """Download ARTIFACT_ID to DEST [default: its filename]; rerun an interrupted download to resume it."""
    if dest is None:
        dest = Path(Path(obj.client.get_artifact(artifact_id)["filename"]).name)
    path = obj.client.download_artifact(artifact_id, dest, progress=not no_progress and not obj.as_json)
    _show(obj, {"id": artifact_id, "path": str(path)}, [str(path)])


@artifacts.command(name="list")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 500))
@click.option("--prefix", help="Only filenames starting with this.")
@click.option("--before", help="Cursor from a previous page's next_before.")
@click.pass_obj
def list_(obj: Any, limit: int, prefix: str | None, before: str | None) -> None:
    """List your artifacts, newest first."""
    answer = obj.client.list_artifacts(limit=limit, prefix=prefix, before=before)
    if obj.as_json:
        render.echo_json(answer)
    else:
        render.echo_table(_table(answer.get("artifacts", []), answer.get("next_before")))


@artifacts.command()
@click.argument("artifact_ids", nargs=-1, required=True)
@click.pass_obj
def rm(obj: Any, artifact_ids: tuple[str, ...]) -> None:
    """Delete artifacts."""
    answers = [obj.client.delete_artifact(ident) for ident in artifact_ids]
    _show(obj, answers, [f"deleted {a['deleted']}" for a in answers])
