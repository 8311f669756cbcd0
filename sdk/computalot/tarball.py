"""Deterministic gzip tarballs of a project directory, the body of `POST /api/v1/projects/:name/push`."""

from __future__ import annotations

import gzip
import io
import os
import stat
import tarfile
from pathlib import Path

#: Directory names never packed, wherever they appear in the tree.
SKIP_DIRS = frozenset({".git", "__pycache__", ".venv"})
#: File name suffixes never packed.
SKIP_SUFFIXES = (".pyc",)


def build_tarball(directory: str | os.PathLike[str]) -> bytes:
    """Pack the files under `directory` into gzip tar bytes; the same files always give the same bytes.

    Entries are relative POSIX paths in sorted order with zeroed mtime, uid and gid. `.git`, `__pycache__`,
    `.venv` and `*.pyc` are skipped, as are symlinks that leave the tree and special files; symlinks that
    stay inside are kept as relative links (as `tar czf` does).

    Raises:
        NotADirectoryError: `directory` is not a directory.
    """
    root = Path(directory).resolve()
    if not root.is_dir():
        raise NotADirectoryError(f"{directory}: not a directory")
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for relpath in sorted(_collect(root)):
            _add(tar, root, relpath)
    packed = io.BytesIO()
    # mtime=0 and no filename keep the gzip header identical between runs.
    with gzip.GzipFile(filename="", mode="wb", fileobj=packed, mtime=0) as gz:
        gz.write(raw.getvalue())
    return packed.getvalue()


def _collect(root: Path) -> list[str]:
    """Relative POSIX paths of every packable file and symlink under `root`."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        prefix = here.relative_to(root).as_posix()
        names = [n for n in filenames if not n.endswith(SKIP_SUFFIXES)]
        # os.walk lists symlinked directories in dirnames but does not enter them; pack those as links.
        names += [n for n in dirnames if n not in SKIP_DIRS and (here / n).is_symlink()]
        dirnames[:] = sorted(n for n in dirnames if n not in SKIP_DIRS and not (here / n).is_symlink())
        found.extend(n if prefix == "." else f"{prefix}/{n}" for n in names)
    return found


def _add(tar: tarfile.TarFile, root: Path, relpath: str) -> None:
    """Add one file or in-tree symlink with normalised metadata; skip anything else."""
    path = root / relpath
    info = tarfile.TarInfo(relpath)
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if path.is_symlink():
        target = Path(os.path.realpath(path))
        if not target.is_relative_to(root):
            return
        info.type = tarfile.SYMTYPE
        info.linkname = Path(os.path.relpath(target, path.parent)).as_posix()
        info.mode = 0o777
        tar.addfile(info)
        return
    mode = path.lstat().st_mode
    if not stat.S_ISREG(mode):
        return
    info.mode = 0o755 if mode & 0o111 else 0o644
    data = path.read_bytes()
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))
