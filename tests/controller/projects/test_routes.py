"""Project routes refuse text fields that the database could not store as sent."""

from __future__ import annotations

import pytest

from tests.controller.api_support import Api


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("remote_dir", "a\u0000b"),
        ("remote_dir", "x" * 501),
        ("description", "bell\u0007"),
        ("description", "d" * 10_001),
    ],
)
async def test_a_project_text_field_with_nul_control_characters_or_too_long_is_refused_and_nothing_changes(
    api: Api, field: str, value: str
) -> None:
    # Given a member's project
    member = await api.token("member")
    status, _, _ = await api.call("POST", "/api/v1/projects", member, json={"name": "p", "description": "kept"})
    assert status == 201
    # When a text field is set to the row's value, at creation and by update
    created, body, _ = await api.call("POST", "/api/v1/projects", member, json={"name": "q", field: value})
    updated, _, _ = await api.call("PUT", "/api/v1/projects/p", member, json={field: value})
    # Then both are a 422 naming the field, and the project is as it was
    assert (created, updated) == (422, 422)
    assert body["error"]["details"]["fields"][0]["field"] == field
    _, project, _ = await api.call("GET", "/api/v1/projects/p", member)
    assert (project["description"], project["remote_dir"]) == ("kept", None)
    listed, projects, _ = await api.call("GET", "/api/v1/projects", member)
    assert [p["name"] for p in projects["projects"]] == ["p"]


async def test_a_description_keeps_its_newlines_and_tabs(api: Api) -> None:
    # Given a member, When a project is created with a multi-line description
    member = await api.token("member")
    status, project, _ = await api.call(
        "POST", "/api/v1/projects", member, json={"name": "p", "description": "line 1\n\tline 2"}
    )
    # Then it is kept as sent
    assert status == 201 and project["description"] == "line 1\n\tline 2"
