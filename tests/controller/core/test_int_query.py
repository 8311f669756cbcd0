"""Integer query parameters: bounds, and ASCII digits only."""

from __future__ import annotations

import pytest

from tests.controller.api_support import Api


@pytest.mark.parametrize("limit", ["٣", "--5", "5" * 30, " 5"])
async def test_a_paging_parameter_takes_only_ascii_digits(api: Api, limit: str) -> None:
    # Given a member, When a list is paged with a limit that is not plain ASCII digits
    member = await api.token("member")
    status, body, _ = await api.call("GET", "/api/v1/jobs", member, params={"limit": limit})
    # Then it is a 422 naming the parameter
    assert status == 422, body
    assert body["error"]["details"]["fields"][0]["field"] == "limit"
