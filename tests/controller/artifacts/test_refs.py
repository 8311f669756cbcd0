"""Download paths of `payload._artifacts` (the pure part of the submit-time checks)."""

from __future__ import annotations

import pytest

from controller.artifacts.refs import _nested_paths, normal_path, path_problem


@pytest.mark.parametrize("path", ["a", "data/train.csv", "./a/b", "a//b", "weird name.txt"])
def test_relative_paths_inside_the_input_dir_are_accepted(path: str) -> None:
    assert path_problem(path) is None


@pytest.mark.parametrize("path", ["", "/etc/passwd", "../up", "a/../../b", "a\\b", "nul\0", ".", 5, "x" * 501])
def test_paths_that_could_leave_the_input_dir_are_refused(path: object) -> None:
    assert path_problem(path)


def test_equivalent_spellings_have_one_normal_form() -> None:
    assert normal_path("./a//b/") == normal_path("a/b") == "a/b"


def test_a_path_inside_another_downloads_file_is_refused() -> None:
    # Given downloads to "a", "a/b/c" and "b"
    paths = {"a": "d[0].path", "a/b/c": "d[1].path", "b": "d[2].path"}

    # Then only the one nested under another file is named
    assert [e["field"] for e in _nested_paths(paths)] == ["d[1].path"]
