"""/api/v1/admin/*: admin tokens manage accounts, keys, wallets and money; nobody else can. Viewers never write."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account

from controller.docs import routes as docs
from tests.controller.api_support import Api

ADMIN_ROUTES = [(m, p) for m, p, _, _ in docs.ENDPOINTS if p.startswith("/api/v1/admin/")]


def concrete(path: str) -> str:
    return (
        path.replace("{account_id}", "acc_x").replace("{key_id}", "key_x").replace("{wallet_address}", "0x" + "1" * 40)
    )


@pytest.mark.parametrize("role", ["member", "viewer"])
@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
async def test_admin_routes_answer_403_to_other_roles(api: Api, role: str, method: str, path: str) -> None:
    status, body, _ = await api.call(method, concrete(path), await api.token(role), json={})
    assert (status, body["error"]["code"]) == (403, "forbidden")


WRITES = [(m, p) for m, p, auth, _ in docs.ENDPOINTS if auth and m != "GET" and not p.startswith("/api/v1/admin/")]


@pytest.mark.parametrize(("method", "path"), WRITES)
async def test_every_write_answers_403_to_a_viewer(api: Api, method: str, path: str) -> None:
    status, body, _ = await api.call(
        method, concrete(path).replace("{", "").replace("}", ""), await api.token("viewer")
    )
    assert (status, body["error"]["code"]) == (403, "forbidden")


async def test_an_admin_creates_a_credited_account_whose_key_works(api: Api) -> None:
    admin = await api.token("admin")

    status, body, _ = await api.call(
        "POST", "/api/v1/admin/accounts", admin, json={"name": "alice", "role": "member", "credit_usd": 25}
    )

    assert status == 201, body
    assert (body["account"]["name"], body["account"]["available_usd"]) == ("alice", 25)
    token = body["api_key"]
    assert token.startswith("flk_") and body["key"]["prefix"] == token[:10]
    status, balance, _ = await api.call("GET", "/api/v1/account/balance", token)
    assert (status, balance["ledger_balance_usd"]) == (200, 25)
    listed = (await api.call("GET", "/api/v1/admin/accounts", admin))[1]["accounts"]
    assert [a["ledger_balance_usd"] for a in listed if a["name"] == "alice"] == [25]


async def test_a_new_account_starts_at_zero(api: Api) -> None:
    admin = await api.token("admin")
    body = (await api.call("POST", "/api/v1/admin/accounts", admin, json={"name": "bob"}))[1]
    assert body["account"]["ledger_balance_usd"] == 0 and body["account"]["role"] == "member"


async def test_an_admin_issues_lists_and_revokes_keys(api: Api) -> None:
    admin = await api.token("admin")
    account = (await api.call("POST", "/api/v1/admin/accounts", admin, json={"name": "carol"}))[1]["account"]

    status, issued, _ = await api.call(
        "POST", f"/api/v1/admin/accounts/{account['id']}/keys", admin, json={"label": "ci"}
    )
    assert status == 201 and issued["key"]["label"] == "ci"
    keys = (await api.call("GET", f"/api/v1/admin/accounts/{account['id']}/keys", admin))[1]["keys"]
    assert len(keys) == 2 and all("api_key" not in k for k in keys)

    assert (await api.call("DELETE", f"/api/v1/admin/keys/{issued['key']['id']}", admin))[0] == 200
    assert (await api.call("GET", "/api/v1/account/balance", issued["api_key"]))[0] == 401
    assert (await api.call("DELETE", f"/api/v1/admin/keys/{issued['key']['id']}", admin))[0] == 404


async def test_credits_and_debits_carry_their_reason_into_the_ledger(api: Api) -> None:
    admin = await api.token("admin")
    created = (await api.call("POST", "/api/v1/admin/accounts", admin, json={"name": "dan"}))[1]
    account_id, token = created["account"]["id"], created["api_key"]

    credit = await api.call(
        "POST", f"/api/v1/admin/accounts/{account_id}/credit", admin, json={"amount_usd": "10.5", "reason": "beta"}
    )
    debit = await api.call(
        "POST", f"/api/v1/admin/accounts/{account_id}/debit", admin, json={"amount_usd": 0.5, "reason": "fix"}
    )
    too_much = await api.call(
        "POST", f"/api/v1/admin/accounts/{account_id}/debit", admin, json={"amount_usd": 11, "reason": "oops"}
    )
    no_reason = await api.call("POST", f"/api/v1/admin/accounts/{account_id}/credit", admin, json={"amount_usd": 1})

    assert credit[0] == debit[0] == 201 and debit[1]["balance"]["available_usd"] == 10
    assert (too_much[0], too_much[1]["error"]["code"]) == (409, "insufficient_funds")
    assert (no_reason[0], no_reason[1]["error"]["code"]) == (422, "validation_failed")
    entries = (await api.call("GET", "/api/v1/account/ledger", token))[1]["entries"]
    assert [(e["kind"], e["amount_usd"], e["reason"]) for e in entries] == [
        ("debit", -0.5, "fix"),
        ("credit", 10.5, "beta"),
    ]


async def test_an_admin_whitelists_a_wallet_for_an_existing_account(api: Api) -> None:
    admin = await api.token("admin")
    created = (await api.call("POST", "/api/v1/admin/accounts", admin, json={"name": "erin"}))[1]
    key = Account.create()

    status, body, _ = await api.call(
        "POST",
        "/api/v1/admin/wallets",
        admin,
        json={"wallet_address": key.address, "account_id": created["account"]["id"]},
    )

    assert status == 201 and body["wallet"]["account_id"] == created["account"]["id"]
    assert [w["wallet_address"] for w in (await api.call("GET", "/api/v1/admin/wallets", admin))[1]["wallets"]] == [
        key.address.lower()
    ]
    assert (await api.call("DELETE", f"/api/v1/admin/wallets/{key.address}", admin))[0] == 200
    assert (await api.call("GET", "/api/v1/admin/wallets", admin))[1]["wallets"] == []


async def test_feedback_is_stored_validated_rate_limited_and_listed_for_admins(api: Api) -> None:
    # Given anyone, without a token
    good = {"type": "bug", "title": "Broken", "description": "It broke"}

    # When they send feedback: valid, invalid, and too often
    first = await api.call("POST", "/api/v1/feedback", json=good)
    bad = await api.call("POST", "/api/v1/feedback", json={**good, "type": "rant", "extra": 1})
    rest = [(await api.call("POST", "/api/v1/feedback", json={**good, "title": f"n{i}"}))[0] for i in range(10)]

    # Then valid feedback is stored until the hourly limit, and admins read it newest first
    assert first[0] == 201 and first[1]["status"] == "received"
    assert (bad[0], {f["field"] for f in bad[1]["error"]["details"]["fields"]}) == (422, {"type", "extra"})
    assert rest == [201] * 9 + [429]
    listed: Any = (await api.call("GET", "/api/v1/admin/feedback?limit=5", await api.token("admin")))[1]
    assert [f["title"] for f in listed["feedback"]] == ["n8", "n7", "n6", "n5", "n4"]
    assert listed["next_before"] is not None


@pytest.mark.parametrize("amount", ["1000000.01", 2**62, "4611686018427.387904", "1e999999"])
@pytest.mark.parametrize("move", ["credit", "debit"])
async def test_an_admin_credit_or_debit_above_a_million_dollars_is_refused_and_the_list_still_works(
    api: Api, move: str, amount: Any
) -> None:
    # Given an account with $5
    admin = await api.token("admin")
    created = (await api.call("POST", "/api/v1/admin/accounts", admin, json={"name": "eve", "credit_usd": 5}))[1]
    account_id = created["account"]["id"]

    # When an admin moves more than the largest single amount, twice (in the report the second overflowed)
    for _ in range(2):
        status, body, _ = await api.call(
            "POST", f"/api/v1/admin/accounts/{account_id}/{move}", admin, json={"amount_usd": amount, "reason": "x"}
        )

        # Then it is refused as a field error naming the limit
        assert (status, body["error"]["code"]) == (422, "validation_failed")
        assert "at most 1,000,000 USD" in body["error"]["details"]["fields"][0]["message"]

    # And the account list still answers with the untouched balance
    status, body, _ = await api.call("GET", "/api/v1/admin/accounts", admin)
    assert status == 200 and [a["ledger_balance_usd"] for a in body["accounts"] if a["id"] == account_id] == [5]


async def test_an_admin_credit_past_a_billion_dollars_is_refused_with_the_room_left(api: Api) -> None:
    # Given an account credited a million dollars a thousand times less one dollar, straight into the ledger
    from controller.billing import accounts, ledger

    admin = await api.token("admin")
    created = (await api.call("POST", "/api/v1/admin/accounts", admin, json={"name": "rich"}))[1]
    account_id = created["account"]["id"]
    await api.write(accounts.add_entry, account_id, "credit", ledger.MAX_BALANCE_MICRO - ledger.MICRO_PER_USD)

    # When an admin credits two dollars, then one
    refused = await api.call(
        "POST", f"/api/v1/admin/accounts/{account_id}/credit", admin, json={"amount_usd": 2, "reason": "x"}
    )
    accepted = await api.call(
        "POST", f"/api/v1/admin/accounts/{account_id}/credit", admin, json={"amount_usd": 1, "reason": "x"}
    )

    # Then the first is refused with what still fits and the second fills the account to the limit exactly
    assert (refused[0], refused[1]["error"]["code"]) == (422, "balance_limit_exceeded")
    assert refused[1]["error"]["details"]["room_usd"] == 1 and refused[1]["error"]["recommended_action"]
    assert accepted[0] == 201 and accepted[1]["balance"]["ledger_balance_usd"] == 1_000_000_000
    listed = (await api.call("GET", "/api/v1/admin/accounts", admin))[1]["accounts"]
    assert [a["ledger_balance_usd"] for a in listed if a["id"] == account_id] == [1_000_000_000]


async def test_an_account_created_with_more_than_a_million_dollars_is_refused(api: Api) -> None:
    # Given an admin, When it creates an account with a starting credit above the largest amount
    status, body, _ = await api.call(
        "POST", "/api/v1/admin/accounts", await api.token("admin"), json={"name": "x", "credit_usd": 2**62}
    )
    # Then it is refused and no account is made
    assert (status, body["error"]["code"]) == (422, "validation_failed")
    listed = (await api.call("GET", "/api/v1/admin/accounts", await api.token("admin")))[1]["accounts"]
    assert [a for a in listed if a["name"] == "x"] == []
