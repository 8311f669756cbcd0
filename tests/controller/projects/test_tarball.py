"""Tests of projects.tarball: refusals, safe extraction, content hashes and diffs, on tarballs built in memory."""

from __future__ import annotations

import gzip
import hashlib
import io
import stat
import tarfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.core.errors import InvalidTarball, PayloadTooLarge
from controller.projects import tarball
from controller.projects.tarball import FileEntry, Limits, content_hash, diff, extract_tarball, file_map, read_tarball

Member = tuple[tarfile.TarInfo, bytes | None]


def regular(name: str, data: bytes = b"x", *, mode: int = 0o644, mtime: int = 0, uid: int = 0) -> Member:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime, info.uid = len(data), mode, mtime, uid
    return info, data


def directory(name: str) -> Member:
    info = tarfile.TarInfo(name)
    info.type, info.mode = tarfile.DIRTYPE, 0o755
    return info, None


def link(name: str, target: str, *, kind: bytes = tarfile.SYMTYPE) -> Member:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


def special(name: str, kind: bytes) -> Member:
    info = tarfile.TarInfo(name)
    info.type = kind
    return info, None


def make_tarball(members: list[Member], *, level: int = 9, tar_format: int = tarfile.PAX_FORMAT) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=level, format=tar_format) as tf:
        for info, data in members:
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def refusal(data: bytes, limits: Limits = Limits()) -> InvalidTarball:
    with pytest.raises(InvalidTarball) as caught:
        read_tarball(data, limits)
    return caught.value


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- reading ---------------------------------------------------------------------------------------------------


def test_a_valid_tarball_lists_files_and_symlinks_sorted_by_normalised_path() -> None:
    # Given a tarball as `tar czf - -C project .` writes it: a root "./" entry, directories, a symlink
    data = make_tarball(
        [
            directory("./"),
            directory("./src"),
            regular("./src/main.py", b"print(1)\n"),
            regular("./run.sh", b"#!/bin/sh\n", mode=0o755),
            link("./src/run", "../run.sh"),
            regular("./a//b/./c.txt", b"c"),
        ]
    )

    # When it is read
    entries = read_tarball(data)

    # Then files and the symlink come back sorted, normalised, with exec bits; directories are not entries
    assert entries == [
        FileEntry("a/b/c.txt", 1, sha(b"c"), False),
        FileEntry("run.sh", 10, sha(b"#!/bin/sh\n"), True),
        FileEntry("src/main.py", 9, sha(b"print(1)\n"), False),
        FileEntry("src/run", 0, sha(b"../run.sh"), False, link_target="../run.sh"),
    ]


def test_a_hardlink_to_an_earlier_file_is_listed_with_that_files_content() -> None:
    # Given a hardlink to an earlier regular file
    data = make_tarball([regular("bin/tool", b"tool", mode=0o755), link("tool", "bin/tool", kind=tarfile.LNKTYPE)])

    # When it is read
    entries = read_tarball(data)

    # Then the link has the target's size, hash and exec bit
    assert entries[1] == FileEntry("tool", 4, sha(b"tool"), True)


def test_an_identical_duplicate_member_is_listed_once() -> None:
    # Given the same file appended twice (as `tar rf` does)
    data = make_tarball([regular("a.txt", b"same"), regular("./a.txt", b"same")])

    # When it is read, Then it is one entry
    assert [e.path for e in read_tarball(data)] == ["a.txt"]


def test_a_symlink_through_a_symlink_that_stays_inside_is_accepted() -> None:
    # Given `up -> d/e` and `top -> up/../..`, which the kernel resolves to the root
    data = make_tarball([link("up", "d/e"), link("top", "up/../.."), regular("d/e/f", b"f")])

    # When it is read, Then both links are accepted
    assert [e.path for e in read_tarball(data)] == ["d/e/f", "top", "up"]


# --- refusals --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("members", "reason", "member"),
    [
        pytest.param([regular("/etc/passwd")], "absolute_path", "/etc/passwd", id="absolute path"),
        pytest.param([regular("../evil")], "parent_reference", "../evil", id="leading dotdot"),
        pytest.param([regular("src/../../evil")], "parent_reference", "src/../../evil", id="inner dotdot"),
        pytest.param([regular("ok"), directory("../up")], "parent_reference", "../up", id="dotdot directory"),
        pytest.param([link("l", "../outside")], "link_escapes", "l", id="symlink escapes"),
        pytest.param([link("a/b/l", "../../../x")], "link_escapes", "a/b/l", id="nested symlink escapes"),
        pytest.param([link("l", "/etc/passwd")], "link_absolute", "l", id="absolute symlink"),
        pytest.param(
            [link("d/up", ".."), link("b", "d/up/..")], "link_escapes", "b", id="symlink escapes through a symlink"
        ),
        pytest.param([link("a", "b"), link("b", "a")], "link_loop", "a", id="symlink loop"),
        pytest.param([link("l", "")], "invalid_path", "l", id="empty symlink target"),
        pytest.param(
            [regular("f"), link("h", "../f", kind=tarfile.LNKTYPE)], "link_escapes", "h", id="hardlink escapes"
        ),
        pytest.param([link("h", "/etc/passwd", kind=tarfile.LNKTYPE)], "link_absolute", "h", id="absolute hardlink"),
        pytest.param(
            [regular("f"), link("h", "d/../f", kind=tarfile.LNKTYPE)],
            "parent_reference",
            "h",
            id="hardlink with dotdot",
        ),
        pytest.param(
            [link("h", "later", kind=tarfile.LNKTYPE), regular("later")],
            "hardlink_target_missing",
            "h",
            id="hardlink to a later member",
        ),
        pytest.param([special("dev/null", tarfile.CHRTYPE)], "device_file", "dev/null", id="character device"),
        pytest.param([special("dev/sda", tarfile.BLKTYPE)], "device_file", "dev/sda", id="block device"),
        pytest.param([special("pipe", tarfile.FIFOTYPE)], "fifo", "pipe", id="fifo"),
        pytest.param([special("odd", b"V")], "special_file", "odd", id="volume header"),
        pytest.param([regular("a", b"1"), regular("./a", b"2")], "duplicate_path", "./a", id="duplicate path"),
        pytest.param(
            [regular("a", b"1"), regular("a", b"1", mode=0o755)], "duplicate_path", "a", id="duplicate exec bit"
        ),
        pytest.param([regular("a"), regular("a/b")], "path_conflict", "a/b", id="file used as a directory"),
        pytest.param([directory("a"), regular("a")], "path_conflict", "a", id="directory and file"),
        pytest.param([link("l", "d"), regular("l/x")], "parent_is_link", "l/x", id="member under a symlink"),
        pytest.param([regular(".", b"")], "invalid_path", ".", id="file named dot"),
        pytest.param([regular("n" * 300)], "name_too_long", "n" * 300, id="300-character file name"),
        pytest.param(
            [regular("/".join(["d" * 200] * 30))], "name_too_long", "/".join(["d" * 200] * 30), id="path over 4 KiB"
        ),
        pytest.param([link("l", "t" * 300)], "name_too_long", "l", id="300-character symlink target"),
        pytest.param([], "empty_archive", None, id="empty archive"),
        pytest.param([directory("src"), directory("src/a")], "empty_archive", None, id="only directories"),
    ],
)
def test_an_unsafe_or_ambiguous_archive_is_refused_naming_the_member_and_reason(
    members: list[Member], reason: str, member: str | None
) -> None:
    # Given an archive with one unsafe or ambiguous member (or none at all)
    data = make_tarball(members)

    # When it is read
    error = refusal(data)

    # Then it is refused with the stable reason and the offending member's name in the archive
    assert error.details == {"member": member, "reason": reason}
    assert error.status == 422 and error.code == "invalid_tarball"


def test_a_body_that_is_not_gzip_is_refused() -> None:
    # Given a plain, uncompressed tar
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tf:
        info, content = regular("a")
        tf.addfile(info, io.BytesIO(content))

    # When it is read, Then it is refused as not gzip
    assert refusal(buffer.getvalue()).details["reason"] == "not_gzip"
    assert refusal(b"").details["reason"] == "not_gzip"


def test_gzip_content_that_is_not_a_tar_is_refused() -> None:
    # Given gzip-compressed text
    data = gzip.compress(b"this is not a tar archive\n" * 40)

    # When it is read, Then it is refused as not tar
    error = refusal(data)
    assert error.details == {"member": None, "reason": "not_tar"}


def test_a_truncated_gzip_stream_is_refused() -> None:
    # Given a valid tarball cut in half
    data = make_tarball([regular("a", bytes(range(256)) * 64)], level=0)

    # When it is read, Then it is refused as corrupt gzip
    assert refusal(data[: len(data) // 2]).details["reason"] == "corrupt_gzip"


def test_a_tar_header_too_large_for_any_real_project_is_refused() -> None:
    # Given a pax header of 5 MiB, which tarfile would read whole into memory
    info, data = regular("a")
    info.pax_headers = {"comment": "x" * (5 * 1024 * 1024)}

    # When it is read, Then it is refused before the header is read
    assert refusal(make_tarball([(info, data)])).details["reason"] == "oversized_header"


# --- limits ----------------------------------------------------------------------------------------------------


def test_a_body_over_the_compressed_limit_is_refused_before_decompressing() -> None:
    # Given a tarball larger than a small compressed limit
    data = make_tarball([regular("a", b"x" * 100)])

    # When it is read
    with pytest.raises(PayloadTooLarge) as caught:
        read_tarball(data, Limits(max_compressed_bytes=len(data) - 1))

    # Then it is too large, naming the limit
    assert caught.value.status == 413
    assert caught.value.details["limit"] == "max_compressed_bytes"


def test_more_files_than_the_limit_is_refused_at_the_first_file_over() -> None:
    # Given four files and a limit of three
    data = make_tarball([regular(f"f{i}") for i in range(4)])

    # When it is read
    with pytest.raises(PayloadTooLarge) as caught:
        read_tarball(data, Limits(max_files=3))

    # Then the fourth file is named
    assert caught.value.details == {"limit": "max_files", "max": 3, "member": "f3"}


def test_unpacked_bytes_over_the_limit_are_refused_from_the_header_before_reading_content() -> None:
    # Given a highly compressible 1 MiB file and a 1 KiB unpacked limit
    data = make_tarball([regular("small", b"s" * 100), regular("bomb", b"\0" * (1024 * 1024))])

    # When it is read
    with pytest.raises(PayloadTooLarge) as caught:
        read_tarball(data, Limits(max_unpacked_bytes=1024))

    # Then the member that crossed the limit is named
    assert caught.value.details == {"limit": "max_unpacked_bytes", "max": 1024, "member": "bomb"}


def test_headers_alone_cannot_inflate_past_the_decompression_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a cap of a few KiB (no base allowance) and an archive of many empty directories
    monkeypatch.setattr(tarball, "_HEADER_ALLOWANCE_BASE_BYTES", 0)
    data = make_tarball([regular("a"), *(directory(f"d{i}") for i in range(100))], tar_format=tarfile.USTAR_FORMAT)

    # When it is read with room for one small file
    with pytest.raises(PayloadTooLarge) as caught:
        read_tarball(data, Limits(max_unpacked_bytes=1024, max_files=1))

    # Then it stops at the cap instead of inflating everything
    assert caught.value.details["limit"] == "max_unpacked_bytes"


# --- extraction ------------------------------------------------------------------------------------------------


def test_extraction_writes_the_listed_tree_with_exec_bits_and_no_other_modes(tmp_path: Path) -> None:
    # Given files with odd modes and owners, a symlink and a hardlink
    data = make_tarball(
        [
            directory("./"),
            regular("./run.sh", b"#!/bin/sh\necho hi\n", mode=0o4777, uid=1234),
            regular("data/table.csv", b"a,b\n", mode=0o666),
            link("data/run", "../run.sh"),
            link("again.sh", "run.sh", kind=tarfile.LNKTYPE),
        ]
    )
    dest = tmp_path / "tree"

    # When it is extracted into an absent directory
    entries = extract_tarball(data, dest)

    # Then exactly the listed paths exist, with contents, links, 0o755/0o644 modes and nothing else
    written = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if not p.is_dir() or p.is_symlink())
    assert written == [e.path for e in entries] == ["again.sh", "data/run", "data/table.csv", "run.sh"]
    assert (dest / "run.sh").read_bytes() == b"#!/bin/sh\necho hi\n"
    assert stat.S_IMODE((dest / "run.sh").stat().st_mode) == 0o755
    assert stat.S_IMODE((dest / "data/table.csv").stat().st_mode) == 0o644
    assert (dest / "data/run").is_symlink() and str((dest / "data/run").readlink()) == "../run.sh"
    assert (dest / "again.sh").read_bytes() == (dest / "run.sh").read_bytes()


def test_extraction_refuses_an_unsafe_archive_before_writing_anything(tmp_path: Path) -> None:
    # Given a tarball whose last member escapes
    data = make_tarball([regular("fine.txt"), link("escape", "../../etc")])

    # When it is extracted, Then it is refused and nothing is written
    with pytest.raises(InvalidTarball):
        extract_tarball(data, tmp_path / "tree")
    assert not (tmp_path / "tree").exists()


def test_extraction_into_a_non_empty_directory_is_refused(tmp_path: Path) -> None:
    # Given a destination that already holds a file
    (tmp_path / "old.txt").write_text("old")

    # When a tarball is extracted there, Then the caller's mistake is a ValueError
    with pytest.raises(ValueError, match="empty or absent"):
        extract_tarball(make_tarball([regular("a")]), tmp_path)


# --- content hash and diff -------------------------------------------------------------------------------------

PROJECT = {"main.py": (b"print('hi')\n", False), "run.sh": (b"#!/bin/sh\n", True), "lib/util.py": (b"x = 1\n", False)}


def project_tarball(
    files: dict[str, tuple[bytes, bool]],
    *,
    order: list[str] | None = None,
    mtime: int = 0,
    uid: int = 0,
    level: int = 9,
) -> bytes:
    names = order if order is not None else sorted(files)
    members = [regular(n, files[n][0], mode=0o755 if files[n][1] else 0o644, mtime=mtime, uid=uid) for n in names]
    return make_tarball(members, level=level)


def test_the_content_hash_ignores_member_order_mtimes_owners_and_compression_level() -> None:
    # Given the same files packed two different ways
    first = project_tarball(PROJECT, order=["main.py", "run.sh", "lib/util.py"], mtime=1, uid=0, level=9)
    second = project_tarball(PROJECT, order=["lib/util.py", "run.sh", "main.py"], mtime=1_700_000_000, uid=501, level=1)
    assert first != second

    # When both are hashed, Then the hashes are equal
    assert content_hash(read_tarball(first)) == content_hash(read_tarball(second))
    assert content_hash(read_tarball(first)).startswith("sha256:")


@settings(max_examples=40, deadline=None, database=None)
@given(
    files=st.dictionaries(
        st.from_regex(r"[a-z]{1,5}(/[a-z]{1,5})?\.txt", fullmatch=True),
        st.tuples(st.binary(max_size=64), st.booleans()),
        min_size=1,
        max_size=8,
    ),
    data=st.data(),
)
def test_the_content_hash_depends_on_the_files_only_for_any_packing(
    files: dict[str, tuple[bytes, bool]], data: st.DataObject
) -> None:
    # Given any set of files, packed in any order with any mtime and compression level
    order = data.draw(st.permutations(sorted(files)))
    packed = project_tarball(
        files, order=order, mtime=data.draw(st.integers(0, 2**31)), level=data.draw(st.integers(1, 9))
    )

    # When it is hashed, Then it matches the canonical packing
    assert content_hash(read_tarball(packed)) == content_hash(read_tarball(project_tarball(files)))


def test_the_content_hash_changes_when_one_byte_changes() -> None:
    # Given the project and a copy with one byte different
    changed = {**PROJECT, "main.py": (b"print('ho')\n", False)}

    # When both are hashed, Then the hashes differ
    assert content_hash(read_tarball(project_tarball(PROJECT))) != content_hash(read_tarball(project_tarball(changed)))


def test_the_content_hash_changes_when_an_exec_bit_flips() -> None:
    # Given the project and a copy whose script lost its exec bit
    changed = {**PROJECT, "run.sh": (b"#!/bin/sh\n", False)}

    # When both are hashed, Then the hashes differ
    assert content_hash(read_tarball(project_tarball(PROJECT))) != content_hash(read_tarball(project_tarball(changed)))


def test_the_content_hash_tells_a_symlink_from_a_file_holding_its_target() -> None:
    # Given a symlink and a regular file whose content is the link's target
    as_link = [FileEntry("l", 0, sha(b"main.py"), False, link_target="main.py")]
    as_file = [FileEntry("l", 7, sha(b"main.py"), False)]

    # When both are hashed, Then the hashes differ
    assert content_hash(as_link) != content_hash(as_file)


def test_diff_lists_added_removed_and_changed_paths_sorted() -> None:
    # Given two path → sha256 maps
    old = {"a": "1", "b": "2", "c": "3", "z": "9"}
    new = {"c": "3", "b": "20", "y": "8", "x": "7", "z": "90"}

    # When they are diffed, Then each list is sorted
    assert diff(old, new) == {"added": ["x", "y"], "removed": ["a"], "changed": ["b", "z"]}
    assert diff(new, new) == {"added": [], "removed": [], "changed": []}


def test_file_map_maps_each_path_to_its_sha256() -> None:
    # Given the entries of a tarball
    entries = read_tarball(project_tarball(PROJECT))

    # When mapped, Then each path has its content hash
    assert file_map(entries) == {name: sha(content) for name, (content, _) in PROJECT.items()}
