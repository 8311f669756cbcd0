"""Frames between an agent and its warm recipe worker processes (msgpack over a pipe, typed)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import msgpack


@dataclass(frozen=True, slots=True)
class RunRecipe:
    """Parent → worker: run the recipe once."""

    kind: ClassVar[str] = "run"
    payload: dict[str, Any]
    remaining_s: float
    output_dir: str
    #: artifact id -> local path of each `*_ref` input, fetched by the agent beforehand
    inputs: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Published:
    """Parent → worker: the artifact id of a file the recipe asked to publish (or the error)."""

    kind: ClassVar[str] = "published"
    artifact_id: str = ""
    error: str = ""


@dataclass(frozen=True, slots=True)
class Progress:
    kind: ClassVar[str] = "progress"
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Output:
    kind: ClassVar[str] = "output"
    stream: str
    lines: list[str]


@dataclass(frozen=True, slots=True)
class Publish:
    """Worker → parent: upload this file as an artifact of the job's account."""

    kind: ClassVar[str] = "publish"
    path: str
    filename: str = ""


@dataclass(frozen=True, slots=True)
class Done:
    kind: ClassVar[str] = "done"
    result: Any


@dataclass(frozen=True, slots=True)
class Failed:
    kind: ClassVar[str] = "failed"
    code: str
    message: str


Frame = RunRecipe | Published | Progress | Output | Publish | Done | Failed
_KINDS: dict[str, type] = {cls.kind: cls for cls in (RunRecipe, Published, Progress, Output, Publish, Done, Failed)}


def encode(frame: Frame) -> bytes:
    return msgpack.packb({"kind": frame.kind, **dataclasses.asdict(frame)}, use_bin_type=True)


def decode(raw: bytes) -> Frame:
    data = msgpack.unpackb(raw, raw=False, strict_map_key=False)
    cls = _KINDS[data.pop("kind")]
    return cls(**data)
