"""Strategy builds: reference-format sources compile offline, builds are cached by source hash, compile errors and
source-rule violations are clear task errors, and the native exports quote the spec's values (§7.1, §8, §9.3).
"""

from __future__ import annotations

import io
import tarfile
import uuid
import zipfile

import pytest

from recipes.base import RecipeError
from recipes.prop_amm.inputs import load_source
from recipes.prop_amm.source_rules import check_source
from recipes.prop_amm.strategy_build import build_native
from recipes.prop_amm.validate import NANO, Strategy
from tests.recipes.prop_amm_support import FakeContext, build_cache, loaded, source


def test_a_second_build_of_the_same_source_reuses_the_cached_library():
    # Given a source never built before, compiled once into the cache
    src = source("starter") + f"\n// build {uuid.uuid4()}\n"
    first = build_native(src, cache_dir=build_cache())
    mtime = first.library.stat().st_mtime_ns
    # When the same source is built again
    again = build_native(src, cache_dir=build_cache())
    # Then nothing is recompiled: the same library file, untouched, is reused
    assert first.cached is False and again.cached is True
    assert again.library == first.library and again.library.stat().st_mtime_ns == mtime
    assert again.source_sha256 == first.source_sha256 and len(again.source_sha256) == 64
    # And a different source gets its own build
    assert build_native(source("cp30"), cache_dir=build_cache()).library != first.library


def test_a_compile_error_fails_with_the_compilers_message():
    # Given a source with type errors
    # When it is built
    with pytest.raises(RecipeError) as err:
        build_native(source("broken"), cache_dir=build_cache())
    # Then the error carries rustc's diagnostics
    message = str(err.value)
    assert message.startswith("compiling the strategy failed")
    assert "error[E0308]: mismatched types" in message and "lib.rs:4" in message


@pytest.mark.parametrize(
    ("snippet", "reason"),
    [
        ("pub unsafe fn f() {}", "`unsafe` is not allowed"),
        ('const X: &str = include_str!("/etc/passwd");', "`include_str!` is not allowed"),
        ('const X: &str = env!("HOME");', "`env!` is not allowed"),
        ("extern crate alloc;", "`extern crate` is not allowed"),
        ("mod helpers;", "external module file `mod helpers;` is not allowed"),
    ],
)
def test_sources_breaking_the_rules_fail_before_compiling(snippet, reason):
    # Given the cp30 source with a banned construct appended
    # When it is built
    # Then the source check names the construct and its line
    with pytest.raises(RecipeError, match=reason):
        build_native(source("cp30") + "\n" + snippet + "\n", cache_dir=build_cache())


def test_a_source_without_compute_swap_or_with_unsafe_only_in_comments():
    # Given sources without compute_swap, and with `unsafe` only inside a comment and a string
    # When checked
    # Then the first is rejected by name and the second passes the check
    with pytest.raises(RecipeError, match="no top-level `fn compute_swap"):
        build_native("fn other() {}")
    check_source('// unsafe\n/* unsafe /* x */ */\nconst S: &str = "unsafe";\nfn compute_swap(d: &[u8]) -> u64 { 0 }')


def test_reference_format_strategies_quote_the_spec_values():
    # Given cp30 and the reference starter, compiled unchanged (pinocchio/wincode/SDK stand-ins)
    cp30 = Strategy(loaded("cp30"))
    starter = Strategy(loaded("starter"))
    # When quoting at 100 X / 10,000 Y with zero storage
    # Then buy-10-Y and sell-1-X outputs are the spec's integers
    assert (cp30.swap(0, 10 * NANO), cp30.swap(1, NANO)) == (99_600_698, 98_715_803_439)
    assert (starter.swap(0, 10 * NANO), starter.swap(1, NANO)) == (94_909_835, 94_105_993_065)


@pytest.mark.parametrize(
    ("name", "size", "outputs"),
    [
        ("cp30", 0.1, (996_990, 1_006_959, 1_016_929)),
        ("cp30", 200.0, (1_955_016_961, 1_955_026_545, 1_955_036_129)),
        ("starter", 0.1, (949_990, 959_490, 968_990)),
    ],
)
def test_concavity_triples_are_the_spec_values(name, size, outputs):
    # Given a strategy and a buy size s
    s = Strategy(loaded(name))
    i0 = int(size * 1e9)
    # When quoting s, s + 1e6 nanos and s + 2e6 nanos
    # Then the outputs are the spec's
    assert tuple(s.swap(0, i0 + k * 1_000_000) for k in range(3)) == outputs


def test_a_panicking_strategy_answers_zero_instead_of_aborting():
    # Given a strategy that panics on sells
    sell = "1 => {\n            let net_x"
    src = source("cp30").replace(sell, sell.replace("{", '{\n            panic!("sell");'))
    s = Strategy(loaded(src))
    # When it is asked to buy and to sell
    # Then the buy quotes normally, the sell returns 0 and the panic is counted
    assert s.swap(0, 10 * NANO) == 99_600_698
    assert s.swap(1, NANO) == 0 and s.loaded.panic_count() == 1


def _tar(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buf.getvalue()


def test_strategy_refs_may_be_a_lib_rs_or_an_archive_holding_one(tmp_path):
    # Given artifacts: a bare lib.rs, a tar.gz with src/lib.rs and Cargo.toml, a zip with lib.rs
    ctx = FakeContext(tmp_path)
    manifest = '[package]\nname = "x"\n[dependencies]\npinocchio = "0.7"\nwincode = "0.4"\n'
    ctx.add_artifact("art_file", source("cp30").encode())
    ctx.add_artifact("art_tar", _tar({"prog/src/lib.rs": source("cp30"), "prog/Cargo.toml": manifest}))
    ctx.add_artifact("art_zip", _zip({"lib.rs": source("cp30"), "README.md": "hi"}))
    # When each is loaded
    # Then each yields the same source
    for ref in ("art_file", "art_tar", "art_zip"):
        assert load_source({"strategy_ref": ref}, ctx) == source("cp30")


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ({"src/lib.rs": "fn compute_swap() {}", "src/helpers.rs": ""}, "exactly one Rust file"),
        ({"src/main.rs": "fn compute_swap() {}"}, "exactly one Rust file, lib.rs"),
        ({"lib.rs": "", "Cargo.toml": '[dependencies]\nserde = "1"\n'}, "limited to pinocchio and wincode"),
    ],
)
def test_archives_with_other_files_or_dependencies_are_rejected(tmp_path, files, reason):
    # Given an archive breaking the single-lib.rs rule or naming another dependency
    ctx = FakeContext(tmp_path)
    ctx.add_artifact("art_bad", _tar(files))
    # When it is loaded
    # Then the error names the field and the rule
    with pytest.raises(RecipeError, match=reason):
        load_source({"strategy_ref": "art_bad"}, ctx)


def test_the_wincode_stand_in_decodes_and_encodes_the_supported_shapes():
    # Given a strategy decoding attributes, pub(crate) fields, a bool, nested arrays and an i8, and encoding a struct
    s = Strategy(loaded("wincode_shapes"))
    # When quoting with zero storage, then with the bool byte (storage[0]) set to 2
    # Then decoding works field by field (input*1000 + 15 encoded bytes*10 + short-input error), and a bool
    # byte other than 0/1 is a decode error
    assert s.swap(0, 5) == 5 * 1000 + 15 * 10 + 1
    assert s.swap(0, 5, storage=bytes([2]) + bytes(1023)) == 1
