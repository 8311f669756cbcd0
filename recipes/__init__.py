"""Sealed recipes: platform-owned compute primitives (pure compute, no platform imports)."""

from __future__ import annotations

import importlib

from recipes.base import Recipe, RecipeContext, RecipeError

#: Modules that each define `RECIPE`; imported lazily so listing recipes never compiles kernels.
RECIPE_MODULES: tuple[str, ...] = ("recipes.packing",)

_registry: dict[str, Recipe] | None = None


def registry() -> dict[str, Recipe]:
    """Every installed recipe by name."""
    global _registry
    if _registry is None:
        recipes = [importlib.import_module(name).RECIPE for name in RECIPE_MODULES]
        _registry = {recipe.name: recipe for recipe in recipes}
    return _registry


__all__ = ["Recipe", "RecipeContext", "RecipeError", "registry"]
