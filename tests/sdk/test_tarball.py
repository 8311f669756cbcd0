"""build_tarball: deterministic bytes, skipping rules, symlink handling, and a clean tarfile round trip."""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import time
from pathlib import Path

import pytest
from computalot.tarball import build_tarball


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _members(data: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return {m.name: m for m in tar.getmembers()}


def _contents(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


PROJECT = {
    "computalot.project.json": '{"version": 1}',
    "run.py": "print('hi')\n",
    "pkg/__init__.py": "",
    "pkg/model.py": "X = 1\n",
    "data/z.txt": "z",
    "data/a.txt": "a",
}


def test_the_same_files_give_the_same_bytes_whatever_their_mtimes(tmp_path: Path) -> None:
    # Given two copies of one project, the second touched later
    first = _write(tmp_path / "one", PROJECT)
    second = _write(tmp_path / "two", dict(reversed(PROJECT.items())))
    later = time.time() + 1000
    for path in second.rglob("*"):
        os.utime(path, (later, later))

    # When both are packed (the first twice)
    # Then every build is byte-identical
    assert build_tarball(first) == build_tarball(first) == build_tarball(second)


def test_different_content_gives_different_bytes(tmp_path: Path) -> None:
    # Given a project, packed once
    root = _write(tmp_path / "p", PROJECT)
    before = build_tarball(root)

    # When one file changes
    (root / "run.py").write_text("print('bye')\n")

    # Then the tarball changes
    assert build_tarball(root) != before


def test_the_tarball_round_trips_through_tarfile_with_sorted_relative_entries(tmp_path: Path) -> None:
    # Given a project
    root = _write(tmp_path / "p", PROJECT)

    # When it is packed and read back
    data = build_tarball(root)
    members = _members(data)

    # Then it holds exactly the files, with relative sorted names, the same bytes, and zeroed metadata
    assert list(members) == sorted(PROJECT)
    assert _contents(data) == {k: v.encode() for k, v in PROJECT.items()}
    for name, member in members.items():
        assert not name.startswith("/") and ".." not in name.split("/")
        assert (member.mtime, member.uid, member.gid, member.uname, member.gname) == (0, 0, 0, "", "")
    assert data[:2] == b"\x1f\x8b" and data[4:8] == b"\0\0\0\0"  # gzip, with a zero mtime in the header


def test_vcs_caches_virtualenvs_and_bytecode_are_skipped(tmp_path: Path) -> None:
    # Given a project with the usual clutter, nested too
    clutter = {
        ".git/HEAD": "ref",
        ".git/objects/ab/cd": "x",
        "__pycache__/run.cpython-311.pyc": "x",
        "pkg/__pycache__/model.cpython-311.pyc": "x",
        "pkg/stale.pyc": "x",
        ".venv/bin/python": "x",
        "sub/.venv/lib/site.py": "x",
        "sub/.git/config": "x",
    }
    root = _write(tmp_path / "p", {**PROJECT, **clutter, ".gitignore": "*.pyc\n", "pkg/pyc_notes.txt": "kept"})

    # When it is packed
    names = set(_members(build_tarball(root)))

    # Then only the project's own files are in it
    assert names == set(PROJECT) | {".gitignore", "pkg/pyc_notes.txt"}


def test_executable_bits_are_kept_and_other_modes_normalised(tmp_path: Path) -> None:
    # Given an executable script and a read-only file
    root = _write(tmp_path / "p", {"run.sh": "#!/bin/sh\n", "notes.txt": "n"})
    (root / "run.sh").chmod(0o700)
    (root / "notes.txt").chmod(0o400)

    # When it is packed
    members = _members(build_tarball(root))

    # Then the modes are 0755 and 0644
    assert members["run.sh"].mode == 0o755
    assert members["notes.txt"].mode == 0o644


def test_symlinks_inside_the_tree_are_kept_as_relative_links_and_outside_ones_skipped(tmp_path: Path) -> None:
    # Given links to a file and a directory inside the tree, and links that leave it
    outside = _write(tmp_path / "outside", {"secret.txt": "s"})
    root = _write(tmp_path / "p", PROJECT)
    (root / "pkg" / "alias.py").symlink_to("model.py")
    (root / "data_link").symlink_to(root / "data")  # absolute, but inside
    (root / "escape.txt").symlink_to(outside / "secret.txt")
    (root / "escape_dir").symlink_to(outside)
    (root / "pkg" / "up.txt").symlink_to("../../outside/secret.txt")

    # When it is packed
    members = _members(build_tarball(root))

    # Then in-tree links are relative symlink entries, the directory link is not descended, and escapes are gone
    assert members["pkg/alias.py"].issym() and members["pkg/alias.py"].linkname == "model.py"
    assert members["data_link"].issym() and members["data_link"].linkname == "data"
    assert not any(name.startswith("data_link/") for name in members)
    assert not {"escape.txt", "escape_dir", "pkg/up.txt"} & set(members)


def test_special_files_are_skipped(tmp_path: Path) -> None:
    # Given a project holding a named pipe
    root = _write(tmp_path / "p", PROJECT)
    os.mkfifo(root / "pipe")

    # When it is packed
    # Then the pipe is not in it
    assert "pipe" not in _members(build_tarball(root))


def test_packing_a_file_instead_of_a_directory_is_refused(tmp_path: Path) -> None:
    # Given a plain file
    path = tmp_path / "file.txt"
    path.write_text("x")

    # When it is packed
    # Then NotADirectoryError names it
    with pytest.raises(NotADirectoryError, match="file.txt"):
        build_tarball(path)


def test_an_empty_directory_gives_a_valid_empty_tarball(tmp_path: Path) -> None:
    # Given an empty directory
    (tmp_path / "empty").mkdir()

    # When it is packed
    # Then the tarball reads back with no members
    assert _members(build_tarball(tmp_path / "empty")) == {}


def test_the_tarball_extracts_with_the_data_filter(tmp_path: Path) -> None:
    # Given a packed project with an in-tree link
    root = _write(tmp_path / "p", PROJECT)
    (root / "pkg" / "alias.py").symlink_to("model.py")
    data = build_tarball(root)
    shutil.rmtree(root)

    # When it is extracted with the strictest standard filter
    dest = tmp_path / "out"
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(dest, filter="data")

    # Then the files and the link are back
    assert (dest / "pkg" / "model.py").read_text() == "X = 1\n"
    assert (dest / "pkg" / "alias.py").read_text() == "X = 1\n"
