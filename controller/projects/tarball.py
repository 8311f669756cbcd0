"""Validation, hashing and safe extraction of pushed project tarballs (gzip tar, read member by member)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import posixpath
import tarfile
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from controller.core.errors import InvalidTarball, PayloadTooLarge

MiB = 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
#: Read size used to hash file contents; also the largest read of file data tarfile will make on our behalf.
_CHUNK_BYTES = 1 * MiB
#: Largest single read tarfile may ask for. Only headers (pax, GNU long names) are read whole, into memory,
#: so this bounds what one forged header can cost; real headers are a few KiB.
_MAX_HEADER_READ_BYTES = 4 * MiB
#: Decompressed bytes allowed beyond file contents (headers, padding, directories): per allowed file, plus a base.
_HEADER_ALLOWANCE_PER_FILE_BYTES = 8 * 1024
_HEADER_ALLOWANCE_BASE_BYTES = 64 * MiB
#: Symlink hops followed before a chain is called a loop (Linux's own limit).
_MAX_LINK_HOPS = 40
#: Longest path component and whole path, in bytes, that Linux file systems accept (NAME_MAX, PATH_MAX).
_MAX_NAME_BYTES = 255
_MAX_PATH_BYTES = 4095
_SPECIAL_KINDS = {
    tarfile.CHRTYPE: ("device_file", "a character device"),
    tarfile.BLKTYPE: ("device_file", "a block device"),
    tarfile.FIFOTYPE: ("fifo", "a fifo"),
}
#: What to do with a push over a size limit.
PUSH_TOO_LARGE_ACTION = "Remove large or generated files (put data sets in artifacts) and push again."


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One file of a project tree; a symlink has `link_target` set, size 0 and the sha256 of its target string."""

    path: str
    size: int
    sha256: str
    executable: bool
    link_target: str | None = None


@dataclass(frozen=True)
class Limits:
    """Size limits of one push."""

    max_compressed_bytes: int = 256 * MiB
    max_unpacked_bytes: int = 1024 * MiB
    max_files: int = 20_000


def read_tarball(data: bytes, limits: Limits = Limits()) -> list[FileEntry]:
    """Validates a gzip tar and lists its files sorted by path.

    Raises:
        InvalidTarball: not a gzip tar, or a member that is unsafe or ambiguous (details: member, reason).
        PayloadTooLarge: over `limits`, detected while reading.
    """
    if len(data) > limits.max_compressed_bytes:
        limit = limits.max_compressed_bytes
        raise _too_large(
            "max_compressed_bytes", limit, f"the pushed body is {len(data)} bytes, over the {limit}-byte limit"
        )
    if not data.startswith(_GZIP_MAGIC):
        raise _refuse("not_gzip", "the pushed body is not gzip-compressed (it must be a .tar.gz)")
    scan = _Scan(limits)
    cap_bytes = (
        limits.max_unpacked_bytes + limits.max_files * _HEADER_ALLOWANCE_PER_FILE_BYTES + _HEADER_ALLOWANCE_BASE_BYTES
    )
    try:
        with _BoundedGzip(data, cap_bytes) as stream, tarfile.open(fileobj=stream, mode="r:") as tf:
            while (member := tf.next()) is not None:
                scan.add(tf, member)
    except tarfile.TarError as exc:
        raise _unreadable(exc, scan.last_name) from exc
    except (OSError, EOFError, zlib.error) as exc:
        raise _refuse("corrupt_gzip", f"the gzip stream is corrupt or truncated: {exc}", scan.last_name) from exc
    return scan.finish()


def extract_tarball(data: bytes, dest: Path, limits: Limits = Limits()) -> list[FileEntry]:
    """Validates like `read_tarball`, then writes the tree under `dest` (absent or empty) and nowhere else.

    Modes are 0o755 for executables and 0o644 otherwise; owners are never taken from the archive.

    Raises:
        InvalidTarball, PayloadTooLarge: as `read_tarball`, before anything is written.
        ValueError: `dest` exists and is not an empty directory.
        OSError: writing failed; the partial tree under `dest` is the caller's to remove.
    """
    entries = read_tarball(data, limits)
    _prepare_dest(dest)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tf:
        tf.extractall(dest, filter=_extraction_filter({e.path: e for e in entries}))
    return entries


def content_hash(entries: Iterable[FileEntry]) -> str:
    """`sha256:<hex>` of the tree's paths, kinds, exec bits and contents; blind to member order, mtimes and owners."""
    listing = [
        [e.path, "file" if e.link_target is None else "symlink", e.executable, e.sha256]
        for e in sorted(entries, key=lambda e: e.path)
    ]
    # JSON escapes every string, so no path can forge a row boundary.
    return "sha256:" + hashlib.sha256(json.dumps(listing, separators=(",", ":")).encode()).hexdigest()


def file_map(entries: Iterable[FileEntry]) -> dict[str, str]:
    """Path → sha256 of each entry."""
    return {e.path: e.sha256 for e in entries}


def diff(old: Mapping[str, str], new: Mapping[str, str]) -> dict[str, list[str]]:
    """Paths added, removed and changed between two path → sha256 maps, each list sorted."""
    return {
        "added": sorted(new.keys() - old.keys()),
        "removed": sorted(old.keys() - new.keys()),
        "changed": sorted(p for p in old.keys() & new.keys() if old[p] != new[p]),
    }


class _Scan:
    """What has been read of one archive so far, with the checks that must run while reading."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.entries: dict[str, FileEntry] = {}
        self.names: dict[str, str] = {}  # normalised path -> name in the archive, for messages
        self.dirs: dict[str, str] = {}
        self.files_seen = 0
        self.unpacked_bytes = 0
        self.last_name: str | None = None

    def add(self, tf: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        """Checks one member and records it; directories are only remembered for conflict checks."""
        self.last_name = member.name
        path = _member_path(member)
        if member.isdir():
            self.dirs.setdefault(path, member.name)
            return
        self.files_seen += 1
        if self.files_seen > self.limits.max_files:
            limit = self.limits.max_files
            raise _too_large("max_files", limit, f"the archive has more than {limit} files", member.name)
        if member.issym():
            entry = _symlink_entry(member, path)
        elif member.islnk():
            entry = self._hardlink_entry(member, path)
        elif member.isreg():
            entry = self._file_entry(tf, member, path)
        else:
            reason, kind = _SPECIAL_KINDS.get(member.type, ("special_file", f"of tar type {member.type!r}"))
            message = f"member {member.name!r} is {kind}; only files, directories and links are allowed"
            raise _refuse(reason, message, member.name)
        self._record(member, entry)

    def _file_entry(self, tf: tarfile.TarFile, member: tarfile.TarInfo, path: str) -> FileEntry:
        # Counted from the header before any content is read, so a bomb is refused without inflating it.
        self.unpacked_bytes += member.size
        if self.unpacked_bytes > self.limits.max_unpacked_bytes:
            limit = self.limits.max_unpacked_bytes
            message = f"the unpacked files exceed the {limit}-byte limit at member {member.name!r}"
            raise _too_large("max_unpacked_bytes", limit, message, member.name)
        digest = hashlib.sha256()
        reader = tf.extractfile(member)
        assert reader is not None  # regular members always have a reader
        while chunk := reader.read(_CHUNK_BYTES):
            digest.update(chunk)
        # Owner-exec is the bit tarfile's "data" filter keeps, so listing and extraction agree.
        return FileEntry(path, member.size, digest.hexdigest(), bool(member.mode & 0o100))

    def _hardlink_entry(self, member: tarfile.TarInfo, path: str) -> FileEntry:
        # Tar hardlink targets name an earlier member from the archive root, not from the link's directory.
        target = member.linkname
        if target.startswith("/"):
            raise _refuse("link_absolute", f"hardlink {member.name!r} points to absolute path {target!r}", member.name)
        normal = posixpath.normpath(target)
        if normal == ".." or normal.startswith("../"):
            raise _refuse(
                "link_escapes", f"hardlink {member.name!r} points outside the archive ({target!r})", member.name
            )
        if ".." in target.split("/"):
            raise _refuse("parent_reference", f"hardlink {member.name!r} target {target!r} contains '..'", member.name)
        source = self.entries.get(normal)
        if source is None or source.link_target is not None:
            message = (
                f"hardlink {member.name!r} points to {target!r}, which is not a regular file earlier in the archive"
            )
            raise _refuse("hardlink_target_missing", message, member.name)
        return FileEntry(path, source.size, source.sha256, source.executable)

    def _record(self, member: tarfile.TarInfo, entry: FileEntry) -> None:
        existing = self.entries.get(entry.path)
        if existing is None:
            self.entries[entry.path] = entry
            self.names[entry.path] = member.name
        elif existing != entry:  # tar lets a later copy win; we refuse to guess which one was meant
            first = self.names[entry.path]
            message = (
                f"path {entry.path!r} appears twice with different content (members {first!r} and {member.name!r})"
            )
            raise _refuse("duplicate_path", message, member.name)

    def finish(self) -> list[FileEntry]:
        """Whole-tree checks (conflicts, where symlinks lead), then the entries sorted by path."""
        if not self.entries:
            raise _refuse("empty_archive", "the archive holds no files; push the project directory's contents")
        links = {p: e.link_target for p, e in self.entries.items() if e.link_target is not None}
        for path, name in [*self.names.items(), *self.dirs.items()]:
            self._check_parents(path, name, links)
        for path, name in self.dirs.items():
            if path in self.entries:
                raise _refuse("path_conflict", f"{path!r} is both a directory and a file in the archive", name)
        for path, target in links.items():
            self._check_symlink(path, target, links)
        return sorted(self.entries.values(), key=lambda e: e.path)

    def _check_parents(self, path: str, name: str, links: Mapping[str, str]) -> None:
        parts = path.split("/")
        for depth in range(1, len(parts)):
            parent = "/".join(parts[:depth])
            if parent in links:
                message = f"member {name!r} lies under symlink {parent!r}; extracting it would write through the link"
                raise _refuse("parent_is_link", message, name)
            if parent in self.entries:
                raise _refuse("path_conflict", f"member {name!r} lies under {parent!r}, which is a file", name)

    def _check_symlink(self, path: str, target: str, links: Mapping[str, str]) -> None:
        # Resolve through the archive's own symlinks, as the kernel would after extraction; a lexical
        # normpath is not enough (`a -> x/y`, `b -> a/../..` looks inside but is not).
        name = self.names[path]
        resolved = path.split("/")[:-1]
        pending = list(reversed(target.split("/")))
        hops = 0
        while pending:
            part = pending.pop()
            if part in ("", "."):
                continue
            if part == "..":
                if not resolved:
                    message = f"symlink {name!r} -> {target!r} points outside the archive"
                    raise _refuse("link_escapes", message, name)
                resolved.pop()
                continue
            candidate = "/".join([*resolved, part])
            if candidate not in links:
                resolved.append(part)
                continue
            hops += 1
            if hops > _MAX_LINK_HOPS:
                raise _refuse("link_loop", f"symlink {name!r} -> {target!r} never resolves (a loop)", name)
            pending.extend(reversed(links[candidate].split("/")))


class _BoundedGzip(gzip.GzipFile):
    """A gzip reader that will not inflate past `cap_bytes` nor hand tarfile one oversized read."""

    def __init__(self, data: bytes, cap_bytes: int) -> None:
        super().__init__(fileobj=io.BytesIO(data), mode="rb")
        self._cap_bytes = cap_bytes

    def read(self, size: int | None = -1) -> bytes:
        """Reads `size` bytes, refusing unbounded and oversized reads."""
        if size is None or size < 0 or size > _MAX_HEADER_READ_BYTES:
            raise _refuse("oversized_header", f"the archive asks for a single {size}-byte read (a forged tar header)")
        self._check(self.tell() + size)
        return super().read(size)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Seeks, refusing to skip past the cap (skipping inflates too)."""
        # `tell()` is itself `seek(0, SEEK_CUR)`, so only a move forward is checked, without calling `tell()`.
        if whence == io.SEEK_SET:
            self._check(offset)
        elif whence == io.SEEK_CUR and offset:
            self._check(super().seek(0, io.SEEK_CUR) + offset)
        return super().seek(offset, whence)

    def _check(self, position: int) -> None:
        if position > self._cap_bytes:
            message = f"the decompressed archive, headers included, exceeds {self._cap_bytes} bytes"
            raise _too_large("max_unpacked_bytes", self._cap_bytes, message)


def _member_path(member: tarfile.TarInfo) -> str:
    name = member.name
    if name.startswith("/"):
        raise _refuse("absolute_path", f"member {name!r} has an absolute path; archive paths must be relative", name)
    if ".." in name.split("/"):
        raise _refuse("parent_reference", f"member {name!r} contains a '..' component", name)
    _check_length(name, "member", name)
    path = posixpath.normpath(name)
    if path == "." and not member.isdir():  # "./" itself is the root directory of `tar czf x.tgz -C dir .`
        raise _refuse("invalid_path", f"member {name!r} has no file name", name)
    return path


def _check_length(path: str, what: str, member: str) -> None:
    """Refuse a path the file system could not create (it would fail at extraction, after the checks)."""
    encoded = path.encode("utf-8", "surrogateescape")
    longest = max(len(part) for part in encoded.split(b"/"))
    if longest > _MAX_NAME_BYTES or len(encoded) > _MAX_PATH_BYTES:
        message = (
            f"{what} {path[:80]!r}... is too long: at most {_MAX_NAME_BYTES} bytes per name "
            f"and {_MAX_PATH_BYTES} bytes in all"
        )
        raise _refuse("name_too_long", message, member)


def _symlink_entry(member: tarfile.TarInfo, path: str) -> FileEntry:
    target = member.linkname
    if not target:
        raise _refuse("invalid_path", f"symlink {member.name!r} has an empty target", member.name)
    if target.startswith("/"):
        raise _refuse("link_absolute", f"symlink {member.name!r} points to absolute path {target!r}", member.name)
    _check_length(target, "symlink target", member.name)
    # tarfile decodes names with surrogateescape; encode the same way to hash the exact bytes.
    digest = hashlib.sha256(target.encode("utf-8", "surrogateescape")).hexdigest()
    return FileEntry(path, 0, digest, False, link_target=target)


def _extraction_filter(entries: Mapping[str, FileEntry]) -> Callable[[tarfile.TarInfo, str], tarfile.TarInfo | None]:
    extracted: set[str] = set()

    def keep(member: tarfile.TarInfo, dest_path: str) -> tarfile.TarInfo | None:
        member = tarfile.data_filter(member, dest_path)  # tarfile's own guard, on top of the scan's checks
        if member.isdir():
            return member
        path = posixpath.normpath(member.name)
        if path in extracted:  # an identical duplicate; writing it twice could truncate a hardlinked file
            return None
        extracted.add(path)
        if member.issym():
            return member
        return member.replace(mode=0o755 if entries[path].executable else 0o644, deep=False)

    return keep


def _prepare_dest(dest: Path) -> None:
    if not dest.exists():
        dest.mkdir(parents=True)
    elif not dest.is_dir() or any(dest.iterdir()):
        raise ValueError(f"extraction directory {dest} must be empty or absent")


def _unreadable(exc: tarfile.TarError, last_name: str | None) -> InvalidTarball:
    if str(exc).startswith("zlib error"):  # tarfile wraps inflate failures in its own ReadError
        return _refuse("corrupt_gzip", f"the gzip stream is corrupt: {exc}", last_name)
    if last_name is None:
        return _refuse("not_tar", f"the gzip content is not a tar archive ({exc})")
    return _refuse(
        "corrupt_tar", f"the tar archive is corrupt or truncated after member {last_name!r} ({exc})", last_name
    )


def _refuse(reason: str, message: str, member: str | None = None) -> InvalidTarball:
    return InvalidTarball(message, details={"member": member, "reason": reason})


def _too_large(limit: str, max_value: int, message: str, member: str | None = None) -> PayloadTooLarge:
    return PayloadTooLarge(
        message, details={"limit": limit, "max": max_value, "member": member}, recommended_action=PUSH_TOO_LARGE_ACTION
    )
