"""A prebuilt Foundry or Hardhat project in an extracted archive: where it is, whether it was built, its contracts."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from recipes.base import RecipeError

FOUNDRY, HARDHAT = "foundry", "hardhat"
#: project kind -> file names that mark its root
MARKERS: dict[str, tuple[str, ...]] = {
    FOUNDRY: ("foundry.toml",),
    HARDHAT: (
        "hardhat.config.js",
        "hardhat.config.ts",
        "hardhat.config.cjs",
        "hardhat.config.mjs",
        "hardhat.config.cts",
    ),
}
KIND_OF_OPERATION = {"foundry_prebuilt": FOUNDRY, "hardhat_prebuilt": HARDHAT}
OPERATION_OF_KIND = {kind: op for op, kind in KIND_OF_OPERATION.items()}
#: How deep below the archive's top the project root may sit (archives often wrap it in one folder).
MAX_ROOT_DEPTH = 1
_BUILD_HINT = {
    FOUNDRY: "run `forge build --build-info` (or set build_info = true in foundry.toml) before archiving",
    HARDHAT: "run `npx hardhat compile` before archiving",
}
_SHOWN = 20


class ProjectNotBuilt(RecipeError):
    """The archive holds sources but no build output to fuzz."""

    code = "project_not_built"


@dataclass(frozen=True)
class Project:
    """A located, built project."""

    kind: str
    root: Path
    #: build output folder relative to `root` (`out` or foundry.toml's `out`; `artifacts`)
    build_dir: str
    #: contract name -> whether its bytecode is non-empty (None: the build does not say)
    contracts: dict[str, bool | None]

    @property
    def build_info(self) -> Path:
        return self.root / self.build_dir / "build-info"


def find_roots(tree: Path, kind: str) -> list[Path]:
    """Folders holding a marker of `kind`, shallowest first, at most MAX_ROOT_DEPTH below `tree`."""
    found, level = [], [tree]
    for _ in range(MAX_ROOT_DEPTH + 1):
        found = [d for d in level if any((d / m).is_file() for m in MARKERS[kind])]
        if found:
            return sorted(found)
        level = sorted(c for d in level for c in d.iterdir() if c.is_dir() and not c.is_symlink())
    return found


def _foundry_out_dir(root: Path) -> str:
    """`[profile.default] out` of foundry.toml (default `out`), checked to stay inside the project."""
    try:
        config = tomllib.loads((root / "foundry.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeError, tomllib.TOMLDecodeError) as exc:
        raise RecipeError(f"cannot read foundry.toml: {exc}") from exc
    out = config.get("profile", {}).get("default", {}).get("out", "out")
    parts = PurePosixPath(str(out)).parts
    if not isinstance(out, str) or not parts or out.startswith("/") or ".." in parts or any(c.isspace() for c in out):
        raise RecipeError(f"foundry.toml sets out = {out!r}; use a relative folder name without spaces")
    return str(PurePosixPath(*parts))


def _build_info_contracts(files: list[Path]) -> dict[str, bool | None]:
    """Contract name -> has bytecode, from solc standard-JSON output in build-info files."""
    contracts: dict[str, bool | None] = {}
    for path in files:
        try:
            output = json.loads(path.read_text(encoding="utf-8")).get("output") or {}
        except (OSError, UnicodeError, ValueError, AttributeError) as exc:
            raise RecipeError(f"{path.name} in build-info is not a solc build-info JSON file ({exc})") from exc
        for by_name in (output.get("contracts") or {}).values():
            for name, compiled in by_name.items():
                code = ((compiled.get("evm") or {}).get("bytecode") or {}).get("object")
                deployable = None if code is None else bool(code.removeprefix("0x"))
                contracts[name] = bool(contracts.get(name)) or deployable
    return contracts


def _artifact_contracts(build: Path) -> dict[str, bool | None]:
    """Contract names from per-contract artifact files (`<Name>.json`), when build-info does not list them."""
    return {
        p.stem: None
        for p in build.rglob("*.json")
        if "build-info" not in p.relative_to(build).parts and not p.name.endswith(".dbg.json")
    }


def locate(tree: Path, operation: str) -> Project:
    """The built project `operation` expects in the extracted archive `tree`.

    Raises:
        RecipeError: no project root, more than one, the other framework's project, or a bad foundry.toml.
        ProjectNotBuilt: the project has no build-info.
    """
    kind = KIND_OF_OPERATION[operation]
    roots = find_roots(tree, kind)
    if not roots:
        other = HARDHAT if kind == FOUNDRY else FOUNDRY
        if find_roots(tree, other):
            raise RecipeError(
                f"the archive holds a {other.title()} project; use operation {OPERATION_OF_KIND[other]!r}"
            )
        raise RecipeError(
            f"no {' or '.join(MARKERS[kind])} at the top of the archive or one folder down; "
            f"archive the {kind.title()} project folder"
        )
    if len(roots) > 1:
        names = ", ".join(str(r.relative_to(tree)) for r in roots)
        raise RecipeError(f"the archive holds several {kind.title()} projects ({names}); archive one")
    root = roots[0]
    build_dir = _foundry_out_dir(root) if kind == FOUNDRY else "artifacts"
    build_info = root / build_dir / "build-info"
    files = sorted(build_info.glob("*.json")) if build_info.is_dir() else []
    if not files:
        raise ProjectNotBuilt(
            f"the project was not built: {build_info.relative_to(tree)} has no build-info JSON; {_BUILD_HINT[kind]}"
        )
    contracts = _build_info_contracts(files) or _artifact_contracts(root / build_dir)
    return Project(kind, root, build_dir, contracts)


def require_contract(project: Project, contract: str) -> None:
    """RecipeError unless the build holds a deployable `contract`."""
    if contract not in project.contracts:
        names = sorted(project.contracts)
        shown = ", ".join(names[:_SHOWN]) + (f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")
        raise RecipeError(f"contract {contract!r} is not in the build; built contracts: {shown or 'none'}")
    if project.contracts[contract] is False:
        raise RecipeError(
            f"contract {contract!r} has no bytecode (abstract contract or interface?); name a deployable one"
        )
