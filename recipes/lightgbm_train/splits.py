"""Seeded row splits: one hold-out split and K folds, optionally stratified by class. Pure numpy."""

from __future__ import annotations

import numpy as np

from recipes.base import RecipeError


def _groups(n_rows: int, strata: np.ndarray | None, rng: np.random.Generator) -> list[np.ndarray]:
    """Row indices per stratum (ascending class order), each shuffled; one group when not stratified."""
    if strata is None:
        return [rng.permutation(n_rows)]
    return [rng.permutation(np.flatnonzero(strata == value)) for value in np.unique(strata)]


def holdout(
    n_rows: int, test_size: float, seed: int, strata: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) row indices, each ascending; about `test_size` of each stratum is held out.

    Raises:
        RecipeError: the split would leave the training or the validation side empty.
    """
    rng = np.random.default_rng(seed)
    held = [group[: int(round(test_size * len(group)))] for group in _groups(n_rows, strata, rng)]
    valid = np.sort(np.concatenate(held)) if held else np.empty(0, dtype=np.int64)
    if len(valid) == 0 or len(valid) == n_rows:
        raise RecipeError(
            f"test_size={test_size:g} of {n_rows} rows leaves an empty training or validation split; "
            "change test_size or use more rows"
        )
    return complement(n_rows, valid), valid


def kfold(n_rows: int, folds: int, seed: int, strata: np.ndarray | None = None) -> list[np.ndarray]:
    """Validation row indices of each fold (ascending); strata are dealt round-robin so folds stay balanced.

    Raises:
        RecipeError: fewer rows than folds.
    """
    if n_rows < folds:
        raise RecipeError(f"folds={folds} needs at least {folds} rows; the dataset has {n_rows}")
    rng = np.random.default_rng(seed)
    assignment = np.empty(n_rows, dtype=np.int64)
    offset = 0
    for group in _groups(n_rows, strata, rng):
        assignment[group] = (offset + np.arange(len(group))) % folds
        offset += len(group)
    return [np.flatnonzero(assignment == k) for k in range(folds)]


def complement(n_rows: int, rows: np.ndarray) -> np.ndarray:
    """The ascending row indices not in `rows`."""
    return np.setdiff1d(np.arange(n_rows), rows, assume_unique=True)
