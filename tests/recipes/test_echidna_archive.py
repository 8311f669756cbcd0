"""Project archives: safe extraction, and validation of a built Foundry or Hardhat layout."""

from __future__ import annotations

import io
import os
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from recipes.base import RecipeError
from recipes.echidna import archive
from recipes.echidna.archive import UnsafeArchive, extract
from recipes.echidna.project import FOUNDRY, HARDHAT, ProjectNotBuilt, locate, require_contract
from tests.recipes.echidna_data.support import foundry_tree, hardhat_tree, pack


def _tar(path: Path, *entries: tarfile.TarInfo, data: bytes = b"x") -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for info in entries:
            if info.isfile():
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return path


def _entry(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


def _zip(path: Path, *files: tuple[str, str], links: tuple[tuple[str, str], ...] = ()) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files:
            zf.writestr(name, text)
        for name, target in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return path


@pytest.mark.parametrize(("suffix", "prefix"), [(".tar.gz", ""), (".zip", ""), (".tar.gz", "myproj/"), (".zip", "p/")])
def test_a_built_foundry_project_is_found_at_the_top_or_one_folder_down(tmp_path, suffix, prefix):
    # Given a Foundry project archived after `forge build --build-info`
    bundle = pack(foundry_tree(tmp_path / "src"), tmp_path / f"project{suffix}", prefix)

    # When it is extracted and located
    extract(bundle, tmp_path / "x")
    project = locate(tmp_path / "x", "foundry_prebuilt")

    # Then the root, the build folder and the built contracts are known
    assert project.kind == FOUNDRY
    assert project.root == tmp_path / "x" / prefix.rstrip("/")
    assert project.build_dir == "out"
    assert project.contracts == {"TestToken": True, "IToken": False}
    require_contract(project, "TestToken")


def test_a_built_hardhat_project_is_found(tmp_path):
    extract(pack(hardhat_tree(tmp_path / "src"), tmp_path / "p.tar.gz"), tmp_path / "x")

    project = locate(tmp_path / "x", "hardhat_prebuilt")

    assert (project.kind, project.build_dir, project.build_info) == (
        HARDHAT,
        "artifacts",
        tmp_path / "x/artifacts/build-info",
    )
    assert "TestToken" in project.contracts


def test_foundry_out_is_read_from_foundry_toml(tmp_path):
    foundry_tree(tmp_path, out="build")

    assert locate(tmp_path, "foundry_prebuilt").build_dir == "build"


def test_a_foundry_out_that_leaves_the_project_is_refused(tmp_path):
    foundry_tree(tmp_path)
    (tmp_path / "foundry.toml").write_text('[profile.default]\nout = "../elsewhere"\n')

    with pytest.raises(RecipeError, match="out ="):
        locate(tmp_path, "foundry_prebuilt")


@pytest.mark.parametrize(
    ("make", "operation", "hint"),
    [
        (foundry_tree, "foundry_prebuilt", "forge build --build-info"),
        (hardhat_tree, "hardhat_prebuilt", "hardhat compile"),
    ],
)
def test_an_archive_that_was_not_built_is_rejected_with_the_build_command(tmp_path, make, operation, hint):
    make(tmp_path, built=False)

    with pytest.raises(ProjectNotBuilt, match=hint) as raised:
        locate(tmp_path, operation)

    assert raised.value.code == "project_not_built"


def test_the_other_frameworks_project_points_to_the_right_operation(tmp_path):
    hardhat_tree(tmp_path)

    with pytest.raises(RecipeError, match="'hardhat_prebuilt'"):
        locate(tmp_path, "foundry_prebuilt")


def test_an_archive_without_a_project_or_with_two_is_rejected(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(RecipeError, match="no foundry.toml"):
        locate(tmp_path / "empty", "foundry_prebuilt")

    foundry_tree(tmp_path / "two/a")
    foundry_tree(tmp_path / "two/b")
    with pytest.raises(RecipeError, match="several"):
        locate(tmp_path / "two", "foundry_prebuilt")


def test_a_contract_outside_the_build_or_without_bytecode_is_rejected(tmp_path):
    project = locate(foundry_tree(tmp_path), "foundry_prebuilt")

    with pytest.raises(RecipeError, match="not in the build; built contracts: IToken, TestToken"):
        require_contract(project, "Vault")
    with pytest.raises(RecipeError, match="no bytecode"):
        require_contract(project, "IToken")


def test_a_build_info_file_that_is_not_json_is_rejected(tmp_path):
    foundry_tree(tmp_path)
    (tmp_path / "out/build-info/3f1c.json").write_text("not json")

    with pytest.raises(RecipeError, match="build-info"):
        locate(tmp_path, "foundry_prebuilt")


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ((_entry("/etc/cron.d/x"),), "absolute path"),
        ((_entry("src/../../escape.txt"),), "climbs out"),
        ((_entry("link", tarfile.SYMTYPE, "../../etc/passwd"),), "outside"),
        ((_entry("link", tarfile.SYMTYPE, "/etc/passwd"),), "absolute path"),
        ((_entry("hard", tarfile.LNKTYPE, "../outside"),), "climbs out"),
        ((_entry("dev", tarfile.CHRTYPE),), "special file"),
        ((_entry("fifo", tarfile.FIFOTYPE),), "special file"),
    ],
)
def test_unsafe_tar_entries_are_refused_before_anything_is_written(tmp_path, entries, message):
    bundle = _tar(tmp_path / "bad.tar.gz", _entry("ok.txt"), *entries)

    with pytest.raises(UnsafeArchive, match=message):
        extract(bundle, tmp_path / "x")

    assert not (tmp_path / "x" / "ok.txt").exists()


@pytest.mark.parametrize(
    ("files", "links", "message"),
    [
        ((("../escape.txt", "x"),), (), "climbs out"),
        ((("/abs.txt", "x"),), (), "absolute path"),
        ((("C:/win.txt", "x"),), (), "absolute path"),
        ((), (("link", "../../etc"),), "outside"),
        ((), (("link", "/etc"),), "absolute path"),
        # `d` -> `.` is harmless alone, but makes `d/e` -> `../elsewhere` land outside: only the real path shows it
        ((), (("d", "."), ("d/e", "../elsewhere")), "outside|behind a link"),
    ],
)
def test_unsafe_zip_entries_are_refused(tmp_path, files, links, message):
    bundle = _zip(tmp_path / "bad.zip", ("ok.txt", "x"), *files, links=links)

    with pytest.raises(UnsafeArchive, match=message):
        extract(bundle, tmp_path / "x")

    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "x.txt").exists()


def test_links_that_stay_inside_the_tree_are_kept(tmp_path):
    tar_bundle = _tar(tmp_path / "ok.tar.gz", _entry("lib/a.txt"), _entry("alias", tarfile.SYMTYPE, "lib/a.txt"))
    zip_bundle = _zip(tmp_path / "ok.zip", ("lib/a.txt", "x"), links=(("alias", "lib/a.txt"),))

    extract(tar_bundle, tmp_path / "t")
    extract(zip_bundle, tmp_path / "z")

    for root in (tmp_path / "t", tmp_path / "z"):
        assert os.readlink(root / "alias") == "lib/a.txt"
        assert (root / "alias").read_text() == "x"


def test_a_file_that_is_not_an_archive_is_rejected(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")

    with pytest.raises(RecipeError, match="not a .tar.gz, .tar or .zip"):
        extract(tmp_path / "notes.txt", tmp_path / "x")


def test_a_truncated_archive_is_a_clear_error(tmp_path):
    bundle = pack(foundry_tree(tmp_path / "src"), tmp_path / "p.tar.gz")
    bundle.write_bytes(bundle.read_bytes()[:200])

    with pytest.raises(RecipeError, match="cannot extract"):
        extract(bundle, tmp_path / "x")


def test_an_archive_with_too_many_entries_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(archive, "MAX_ENTRIES", 2)
    bundle = _tar(tmp_path / "many.tar.gz", _entry("a"), _entry("b"), _entry("c"))

    with pytest.raises(UnsafeArchive, match="more than 2 entries"):
        extract(bundle, tmp_path / "x")
