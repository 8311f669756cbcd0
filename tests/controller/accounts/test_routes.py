"""GET /api/v1/account: who a token belongs to; the webhook secret only for the roles that submit jobs."""

from __future__ import annotations

import pytest

from controller.accounts.models import Account
from tests.controller.api_support import Api


@pytest.mark.parametrize("role", ["member", "admin"])
async def test_members_and_admins_read_their_webhook_secret(api: Api, role: str) -> None:
    # Given a member or admin key
    token = await api.token(role)

    # When it reads its account
    status, body, _ = await api.call("GET", "/api/v1/account", token)

    # Then it sees the secret that signs its callbacks
    assert status == 200 and body["role"] == role
    assert body["webhook_secret"] == Account.get_by_id(body["id"]).webhook_secret


async def test_a_viewer_key_cannot_read_the_webhook_secret(api: Api) -> None:
    # Given a viewer key (read-only)
    token = await api.token("viewer")

    # When it reads its account
    status, body, _ = await api.call("GET", "/api/v1/account", token)

    # Then it sees who it is but not the secret, so it cannot forge callbacks
    assert status == 200 and body["role"] == "viewer"
    assert body["webhook_secret"] is None
    assert Account.get_by_id(body["id"]).webhook_secret not in str(body)
