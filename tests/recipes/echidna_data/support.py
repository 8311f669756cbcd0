"""Test material for the `echidna` recipe: built project trees, archives of them, a fake Echidna, a context."""

from __future__ import annotations

import json
import shutil
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

from tests.recipes.packing_support import FakeContext

DATA = Path(__file__).parent

#: solc standard-JSON output as build-info carries it: one deployable contract, one interface.
BUILD_OUTPUT = {
    "src/Token.sol": {
        "TestToken": {"abi": [], "evm": {"bytecode": {"object": "6080604052348015600f57600080fd5b50"}}},
        "IToken": {"abi": [], "evm": {"bytecode": {"object": ""}}},
    }
}


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def foundry_tree(root: Path, out: str = "out", built: bool = True) -> Path:
    """A Foundry project after `forge build --build-info` (or before it, with built=False)."""
    config = '[profile.default]\nsrc = "src"\nlibs = ["lib"]\n' + (f'out = "{out}"\n' if out != "out" else "")
    _write(root / "foundry.toml", config)
    _write(root / "src/Token.sol", "pragma solidity ^0.8.0;\ncontract TestToken {}\ninterface IToken {}\n")
    if built:
        build_info = {"id": "3f1c", "input": {"language": "Solidity"}, "output": {"contracts": BUILD_OUTPUT}}
        _write(root / out / "build-info/3f1c.json", json.dumps(build_info))
        _write(root / out / "Token.sol/TestToken.json", json.dumps({"abi": []}))
    return root


def hardhat_tree(root: Path, built: bool = True) -> Path:
    """A Hardhat project after `npx hardhat compile`."""
    _write(root / "hardhat.config.js", 'module.exports = { solidity: "0.8.24" };\n')
    _write(root / "contracts/Token.sol", "pragma solidity ^0.8.0;\ncontract TestToken {}\n")
    if built:
        build_info = {"_format": "hh-sol-build-info-1", "output": {"contracts": BUILD_OUTPUT}}
        _write(root / "artifacts/build-info/9a7e.json", json.dumps(build_info))
        _write(root / "artifacts/contracts/Token.sol/TestToken.json", json.dumps({"contractName": "TestToken"}))
    return root


def pack(tree: Path, archive: Path, prefix: str = "") -> Path:
    """Archive `tree` as .zip or .tar.gz (by `archive`'s suffix), entries under `prefix`."""
    files = sorted(p for p in tree.rglob("*") if p.is_file())
    if archive.suffix == ".zip":
        with zipfile.ZipFile(archive, "w") as zf:
            for path in files:
                zf.write(path, prefix + path.relative_to(tree).as_posix())
    else:
        with tarfile.open(archive, "w:gz") as tar:
            for path in files:
                tar.add(path, prefix + path.relative_to(tree).as_posix())
    return archive


class PublishingContext(FakeContext):
    """FakeContext that also publishes: each artifact is copied under `published/` and gets an `art_N` id."""

    def __init__(self, tmp_path: Path, timeout_s: float = 300.0) -> None:
        super().__init__(tmp_path, timeout_s)
        self.published: dict[str, Path] = {}
        self._store = tmp_path / "published"
        self._store.mkdir(exist_ok=True)

    def publish_artifact(self, path: Path, filename: str = "") -> str:
        artifact_id = f"art_{len(self.published)}"
        target = self._store / artifact_id / (filename or Path(path).name)
        target.parent.mkdir()
        shutil.copyfile(path, target)
        self.published[artifact_id] = target
        return artifact_id

    def add_file(self, ref: str, source: Path) -> str:
        shutil.copyfile(source, self.artifact_path(ref))
        return ref


FAKE_ECHIDNA = """#!{python}
import json, os, signal, subprocess, sys, time
from pathlib import Path

args = sys.argv[1:]
if args == ["--version"]:
    print("Echidna " + os.environ.get("FAKE_ECHIDNA_VERSION", "2.2.3"))
    sys.exit(0)
if args == ["--help"]:
    print(os.environ.get("FAKE_ECHIDNA_HELP", "--test-mode ARG  Either 'property', 'assertion', 'foundry', 'overflow'"))
    sys.exit(0)
record = {{"argv": args, "cwd": os.getcwd(), "pid": os.getpid(), "rpc_url": os.environ.get("ECHIDNA_RPC_URL")}}
if "--config" in args:
    record["config"] = Path(args[args.index("--config") + 1]).read_text()
Path(os.environ["FAKE_ECHIDNA_RECORD"]).write_text(json.dumps(record))
*log, report = Path(os.environ["FAKE_ECHIDNA_STDOUT"]).read_text().rstrip("\\n").split("\\n")
corpus = Path(args[args.index("--corpus-dir") + 1])

def finish(code):
    (corpus / "reproducers").mkdir(parents=True, exist_ok=True)
    (corpus / "reproducers" / "8812.txt").write_text('[{{"call": "transfer"}}]')
    (corpus / "coverage").mkdir(exist_ok=True)
    (corpus / "coverage" / "1977.txt").write_text("[]")
    (corpus / "covered.1700000000.txt").write_text("*r | contract TestToken {{}}")
    (corpus / "covered.1700000000.html").write_text("<html></html>")
    sys.stdout.write(report)  # Echidna writes its JSON report last, without a newline
    sys.stdout.flush()
    os._exit(code)

mode = os.environ.get("FAKE_ECHIDNA_MODE", "report")
if mode == "crash":
    print("echidna: Couldn't compile given file", file=sys.stderr, flush=True)
    sys.exit(2)
for line in log:
    print(line, flush=True)
if mode == "hang":  # like Echidna stuck in crytic-compile: a child process, SIGTERM ignored
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    record["child_pid"] = subprocess.Popen(["sleep", "600"]).pid
    Path(os.environ["FAKE_ECHIDNA_RECORD"]).write_text(json.dumps(record))
    while True:
        time.sleep(1)
if mode == "report_on_term":
    signal.signal(signal.SIGTERM, lambda *_: finish(0))
    while True:
        time.sleep(0.05)
finish(1 if '"solved"' in report else 0)
"""


def install_fake_tools(bin_dir: Path, crytic_compile: bool = True) -> Path:
    """Write a fake `echidna` (and `crytic-compile`) into `bin_dir`; put it first on PATH to use them."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    echidna = bin_dir / "echidna"
    echidna.write_text(FAKE_ECHIDNA.format(python=sys.executable), encoding="utf-8")
    echidna.chmod(0o755)
    if crytic_compile:
        tool = bin_dir / "crytic-compile"
        tool.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
        tool.chmod(0o755)
    return bin_dir


def run_record(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))
