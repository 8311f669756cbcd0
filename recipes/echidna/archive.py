"""Safe extraction of a project archive (tar, tar.gz/bz2/xz or zip) into an empty directory.

Every entry is checked before anything is written: no absolute paths, no `..`, no links that leave the tree, no
devices, and bounded entry count and size. Tar extraction also runs under Python's `data` filter.
"""

from __future__ import annotations

import os
import posixpath
import stat
import tarfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Literal

from recipes.base import RecipeError

MAX_ENTRIES = 200_000
MAX_TOTAL_BYTES = 4 << 30
TarMode = Literal["r:", "r:gz", "r:bz2", "r:xz"]
_TAR_MAGIC: dict[bytes, TarMode] = {b"\x1f\x8b": "r:gz", b"BZh": "r:bz2", b"\xfd7zXZ\x00": "r:xz"}
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


class UnsafeArchive(RecipeError):
    """The archive names a path outside the tree, a device, or too much data."""

    code = "unsafe_archive"


def archive_kind(path: Path) -> TarMode | Literal["zip"]:
    """`zip`, or the tarfile mode that opens `path`.

    Raises:
        RecipeError: the file is neither a tar (optionally compressed) nor a zip archive.
    """
    with open(path, "rb") as fh:
        head = fh.read(512)
    if head.startswith(_ZIP_MAGIC):
        return "zip"
    for magic, mode in _TAR_MAGIC.items():
        if head.startswith(magic):
            return mode
    if head[257:262] == b"ustar":
        return "r:"
    raise RecipeError("not a .tar.gz, .tar or .zip archive")


def check_name(name: str) -> str:
    """The entry name in POSIX form, or UnsafeArchive when it is absolute or climbs out with `..`."""
    posix = name.replace("\\", "/")
    if posix.startswith("/") or PurePosixPath(posix).drive or (len(posix) > 1 and posix[1] == ":"):
        raise UnsafeArchive(f"archive entry {name!r} has an absolute path")
    if ".." in PurePosixPath(posix).parts:
        raise UnsafeArchive(f"archive entry {name!r} climbs out of the project with '..'")
    normal = posixpath.normpath(posix)
    if normal in (".", ""):
        return "."
    return normal


def check_link(name: str, target: str, relative_to_entry: bool = True) -> None:
    """UnsafeArchive unless the link `name` -> `target` stays inside the tree."""
    if target.startswith("/") or target.replace("\\", "/").startswith("/"):
        raise UnsafeArchive(f"archive link {name!r} points to the absolute path {target!r}")
    base = posixpath.dirname(name) if relative_to_entry else ""
    resolved = posixpath.normpath(posixpath.join(base, target.replace("\\", "/")))
    if resolved == ".." or resolved.startswith("../"):
        raise UnsafeArchive(f"archive link {name!r} points outside the project ({target!r})")


def _budget(entries: int, total_bytes: int) -> None:
    if entries > MAX_ENTRIES:
        raise UnsafeArchive(f"the archive has more than {MAX_ENTRIES} entries")
    if total_bytes > MAX_TOTAL_BYTES:
        raise UnsafeArchive(f"the archive expands to more than {MAX_TOTAL_BYTES >> 30} GiB")


def _extract_tar(path: Path, mode: TarMode, dest: Path) -> None:
    with tarfile.open(path, mode) as tar:
        members, total = [], 0
        for member in tar:
            name = check_name(member.name)
            if member.issym():
                check_link(name, member.linkname)
            elif member.islnk():
                check_link(name, check_name(member.linkname), relative_to_entry=False)
            elif not (member.isfile() or member.isdir()):
                raise UnsafeArchive(f"archive entry {member.name!r} is a device, fifo or other special file")
            total += member.size
            members.append(member)
            _budget(len(members), total)
        tar.extractall(dest, members=members, filter="data")


def _zip_link_target(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> str | None:
    if stat.S_ISLNK(info.external_attr >> 16):
        return archive.read(info).decode("utf-8", errors="replace")
    return None


def _extract_zip(path: Path, dest: Path) -> None:
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        _budget(len(infos), sum(i.file_size for i in infos))
        links: dict[str, tuple[str, str]] = {}
        for info in infos:
            name = check_name(info.filename)
            target = _zip_link_target(archive, info)
            if target is not None:
                check_link(name, target)
                links[info.filename] = (name, target)
        for info in infos:  # regular files and folders first: nothing is ever written through a link
            if info.filename not in links and check_name(info.filename) != ".":
                archive.extract(info, dest)
        root = os.path.realpath(dest)
        for name, target in links.values():
            link = dest / name
            if not _inside(root, os.path.realpath(link.parent)) or os.path.lexists(link):
                raise UnsafeArchive(f"archive link {name!r} collides with another entry or sits behind a link")
            link.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(target, link)
        # Links through links can resolve somewhere their text does not show; check where each really points.
        for name, _ in links.values():
            if not _inside(root, os.path.realpath(dest / name)):
                raise UnsafeArchive(f"archive link {name!r} resolves outside the project")


def _inside(root: str, path: str) -> bool:
    return path == root or path.startswith(root + os.sep)


def extract(path: Path, dest: Path) -> None:
    """Extract the archive at `path` into the directory `dest` (created if needed).

    Raises:
        RecipeError: an unreadable or unsupported archive; UnsafeArchive for an entry that would escape `dest`.
    """
    kind = archive_kind(path)
    dest.mkdir(parents=True, exist_ok=True)
    try:
        if kind == "zip":
            _extract_zip(path, dest)
        else:
            _extract_tar(path, kind, dest)
    except RecipeError:
        raise
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError, UnicodeError) as exc:
        raise RecipeError(f"cannot extract the archive: {type(exc).__name__}: {exc}") from exc
