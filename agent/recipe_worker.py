"""The body of a warm recipe worker process: import the recipe once, then run it for task after task."""

from __future__ import annotations

import importlib
import io
import sys
import time
import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from agent.recipe_protocol import Done, Failed, Output, Progress, Publish, Published, RunRecipe, decode, encode
from recipes.base import RecipeError


class _Context:
    """The `RecipeContext` a recipe sees inside the worker."""

    def __init__(self, conn: Connection, request: RunRecipe) -> None:
        self._conn = conn
        self.deadline = time.monotonic() + request.remaining_s
        self.output_dir = Path(request.output_dir)
        self._inputs = request.inputs

    def progress(self, **fields: Any) -> None:
        self._conn.send_bytes(encode(Progress(fields)))

    def artifact_path(self, ref: str) -> Path:
        if ref not in self._inputs:
            raise RecipeError(f"artifact {ref!r} was not provided to this task; name it in a *_ref payload field")
        return Path(self._inputs[ref])

    def publish_artifact(self, path: Path, filename: str = "") -> str:
        self._conn.send_bytes(encode(Publish(str(path), filename)))
        answer = decode(self._conn.recv_bytes())
        if not isinstance(answer, Published) or answer.error:
            raise RecipeError(f"publishing {Path(path).name} failed: {getattr(answer, 'error', answer)}")
        return answer.artifact_id


class _Lines(io.TextIOBase):
    """Sends what the recipe prints to the parent, a line at a time."""

    def __init__(self, conn: Connection, stream: str) -> None:
        self._conn, self._stream, self._buffer = conn, stream, ""

    def write(self, text: str) -> int:
        self._buffer += text
        if "\n" in self._buffer:
            *lines, self._buffer = self._buffer.split("\n")
            self._conn.send_bytes(encode(Output(self._stream, lines)))
        return len(text)

    def flush(self) -> None:
        if self._buffer:
            self._conn.send_bytes(encode(Output(self._stream, [self._buffer])))
            self._buffer = ""


def serve(conn: Connection, module: str) -> None:
    """Run requests until the parent closes the pipe (the process entry point)."""
    recipe = importlib.import_module(module).RECIPE
    stdout, stderr = _Lines(conn, "stdout"), _Lines(conn, "stderr")
    sys.stdout, sys.stderr = stdout, stderr
    while True:
        try:
            request = decode(conn.recv_bytes())
        except EOFError:
            return
        assert isinstance(request, RunRecipe)
        try:
            frame: Done | Failed = Done(recipe.run(request.payload, _Context(conn, request)))
        except RecipeError as exc:
            frame = Failed(getattr(exc, "code", "recipe_error"), str(exc))
        except Exception as exc:  # the recipe's own bug: report it, keep the worker
            trace = "".join(traceback.format_exception(exc, limit=-8))
            print(trace, file=stderr)
            frame = Failed("recipe_crashed", f"{type(exc).__name__}: {exc}")
        stdout.flush()
        stderr.flush()
        conn.send_bytes(encode(frame))
