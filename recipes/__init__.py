"""Sealed recipes: platform-owned compute primitives (pure compute, no platform imports)."""

from __future__ import annotations

import importlib

from recipes.base import Recipe, RecipeContext, RecipeError

#: Modules that each define `RECIPE`; imported lazily so listing recipes never compiles kernels.
RECIPE_MODULES: tuple[str, ...] = ("recipes.packing", "recipes.prop_amm", "recipes.lightgbm_train", "recipes.echidna")

_modules: dict[str, str] | None = None


def modules() -> dict[str, str]:
    """Recipe name -> the module defining it."""
    global _modules
    if _modules is None:
        _modules = {importlib.import_module(module).RECIPE.name: module for module in RECIPE_MODULES}
    return _modules


def registry() -> dict[str, Recipe]:
    """Every installed recipe by name."""
    return {name: importlib.import_module(module).RECIPE for name, module in modules().items()}


def queue_keys(recipe: Recipe, features: tuple[str, ...] | set[str]) -> list[tuple[str, ...]]:
    """The extra feature sets of a recipe's operations that an agent with `features` can serve (() = the base)."""
    sets = {(), *(tuple(sorted(f)) for f in recipe.operation_requires.values())}
    return sorted(s for s in sets if set(s) <= set(features))


__all__ = ["Recipe", "RecipeContext", "RecipeError", "modules", "queue_keys", "registry"]
