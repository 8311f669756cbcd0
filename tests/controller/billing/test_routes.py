"""The money routes over HTTP: balance, ledger, quotes, x402 top-ups paid with real signatures, the funded
project init, presets; viewers read but never write."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from aiohttp import web
from computalot import _x402
from eth_account import Account

from controller.billing import ledger
from controller.billing.errors import InsufficientBalance
from controller.core.ratelimit import RateLimited
from controller.core.settings import LOCAL_DEV_FACILITATOR, LOCAL_DEV_WARNING, ConfigError, Settings
from controller.docs import routes as docs
from controller.identity import errors as identity_errors
from tests.controller.api_support import Api, ApiFactory

DOLLAR = ledger.MICRO_PER_USD


@pytest.fixture
async def api(make_api: ApiFactory) -> Api:
    """A controller whose operator chose the local-dev facilitator, as these tests pay without moving funds."""
    return await make_api(x402_facilitator=LOCAL_DEV_FACILITATOR)


def decoded(header: str) -> Any:
    return json.loads(base64.b64decode(header))


async def topup(api: Api, token: str, amount_usd: Any = 5) -> dict[str, Any]:
    status, body, headers = await api.call(
        "POST", "/api/v1/account/quotes/topup", token, json={"amount_usd": amount_usd}
    )
    assert status == 402, body
    assert decoded(headers["PAYMENT-REQUIRED"])["accepts"] == body["accepts"]
    return body


async def pay(api: Api, token: str, quote_id: str, header: str) -> tuple[int, Any, Any]:
    return await api.call(
        "POST", f"/api/v1/account/quotes/{quote_id}/pay/x402", token, headers={"PAYMENT-SIGNATURE": header}
    )


async def balance(api: Api, token: str) -> dict[str, Any]:
    status, body, _ = await api.call("GET", "/api/v1/account/balance", token)
    assert status == 200
    return body


async def test_a_new_account_has_nothing_and_shows_it_in_dollars(api: Api) -> None:
    token = await api.token()
    body = await balance(api, token)
    assert (body["ledger_balance_usd"], body["held_usd"], body["available_usd"]) == (0, 0, 0)
    assert (await api.call("GET", "/api/v1/account/ledger", token))[1] == {"entries": [], "next_before": None}
    assert (await api.call("GET", "/api/v1/account/holds", token))[1] == {"holds": []}


async def test_a_top_up_paid_with_x402_credits_once(api: Api) -> None:
    # Given a top-up quote of $12.5
    token, key = await api.token(), Account.create()
    required = await topup(api, token, "12.5")
    quote = required["quote"]
    assert (quote["kind"], quote["status"], quote["amount_usd"]) == ("topup", "open", 12.5)
    assert required["accepts"][0]["amount"] == "12500000" and required["x402Version"] == 2
    assert [q["id"] for q in (await api.call("GET", "/api/v1/account/quotes", token))[1]["quotes"]] == [quote["id"]]

    # When the SDK signs its requirements and the quote is paid
    header = _x402.payment_header(required["accepts"][0], key.key.hex())
    status, body, headers = await pay(api, token, quote["id"], header)

    # Then the account is credited the amount, with a PAYMENT-RESPONSE and a ledger entry naming the quote
    assert status == 200, body
    assert body["credited_usd"] == 12.5 and body["quote"]["status"] == "paid"
    assert decoded(headers["PAYMENT-RESPONSE"]) == {
        "success": True,
        "transaction": body["transaction"],
        "network": "eip155:8453",
        "payer": key.address,
    }
    assert (await balance(api, token))["available_usd"] == 12.5
    entries = (await api.call("GET", "/api/v1/account/ledger", token))[1]["entries"]
    assert [(e["kind"], e["amount_usd"], e["quote_id"]) for e in entries] == [("topup", 12.5, quote["id"])]
    assert (await api.call("GET", "/api/v1/account/quotes", token))[1]["quotes"] == []

    # And paying it again, with the same or a new authorization, credits nothing more
    again = _x402.payment_header(required["accepts"][0], key.key.hex())
    for repeat in (header, again):
        status, body, _ = await pay(api, token, quote["id"], repeat)
        assert (status, body["error"]["code"]) == (409, "quote_already_paid")
    assert (await balance(api, token))["ledger_balance_usd"] == 12.5


async def test_an_authorization_cannot_pay_a_second_quote(api: Api) -> None:
    token, key = await api.token(), Account.create()
    first = await topup(api, token, 1)
    header = _x402.payment_header(first["accepts"][0], key.key.hex())
    assert (await pay(api, token, first["quote"]["id"], header))[0] == 200

    second = await topup(api, token, 1)
    status, body, _ = await pay(api, token, second["quote"]["id"], header)

    assert (status, body["error"]["code"]) == (409, "payment_replayed")
    assert (await balance(api, token))["ledger_balance_usd"] == 1
    assert (await api.call("GET", "/api/v1/account/quotes", token))[1]["quotes"][0]["status"] == "open"


def forged(header: str) -> str:
    """The same authorization, signed by someone else."""
    payment = decoded(header)
    auth = payment["payload"]["authorization"]
    other = decoded(_x402.payment_header({**payment["accepted"]}, Account.create().key.hex()))
    payment["payload"]["signature"] = other["payload"]["signature"]
    assert payment["payload"]["authorization"] == auth
    return base64.b64encode(json.dumps(payment).encode()).decode()


REFUSALS = {
    "payment_wrong_recipient": lambda req, key: _x402.payment_header({**req, "payTo": "0x" + "33" * 20}, key),
    "payment_amount_too_low": lambda req, key: _x402.payment_header(
        {**req, "amount": str(int(req["amount"]) - 1)}, key
    ),
    "payment_amount_too_high": lambda req, key: _x402.payment_header(
        {**req, "amount": str(int(req["amount"]) + 1)}, key
    ),
    "payment_expired": lambda req, key: _x402.payment_header(req, key, now=time.time() - 3600),
    "payment_signature_invalid": lambda req, key: forged(_x402.payment_header(req, key)),
    "payment_wrong_network": lambda req, key: _x402.payment_header({**req, "network": "eip155:1"}, key),
    "payment_malformed": lambda req, key: "definitely not base64",
}


@pytest.mark.parametrize("code", sorted(REFUSALS))
async def test_each_bad_payment_is_refused_with_its_code_and_credits_nothing(api: Api, code: str) -> None:
    token = await api.token()
    required = await topup(api, token, 2)

    header = REFUSALS[code](required["accepts"][0], Account.create().key.hex())
    status, body, _ = await pay(api, token, required["quote"]["id"], header)

    assert body["error"]["code"] == code
    assert status == (400 if code == "payment_malformed" else 402)
    assert (await balance(api, token))["ledger_balance_usd"] == 0
    assert (await api.call("GET", "/api/v1/account/quotes", token))[1]["quotes"][0]["status"] == "open"


async def test_a_member_self_signing_against_a_controller_without_a_facilitator_gets_503_and_no_credit(
    make_api: ApiFactory,
) -> None:
    # Given a controller whose operator configured no facilitator, and a $2 member refused a $5 init with a quote
    api = await make_api()
    token, key = await api.token(credit_micro=2 * DOLLAR), Account.create()
    assert (await api.call("POST", "/api/v1/projects", token, json={"name": "demo"}))[0] == 201
    status, body, _ = await api.call("POST", "/api/v1/projects/demo/init", token)
    assert (status, body["error"]["code"]) == (402, "insufficient_balance")
    quote = body["error"]["details"]["quote"]

    # When the member signs the quote's requirements from its own (empty) wallet and pays, or asks to pay, or
    # asks for a top-up
    attempts = [
        await pay(api, token, quote["id"], _x402.payment_header(quote["accepts"][0], key.key.hex())),
        await api.call("POST", f"/api/v1/account/quotes/{quote['id']}/pay/x402", token),
        await api.call("POST", "/api/v1/account/quotes/topup", token, json={"amount_usd": 5}),
    ]

    # Then each is refused with 503 payments_unavailable, saying what to do, and nothing is credited
    for status, body, _ in attempts:
        assert (status, body["error"]["code"]) == (503, "payments_unavailable")
        assert "admin" in body["error"]["recommended_action"]
    assert (await balance(api, token))["ledger_balance_usd"] == 2
    assert (await api.call("GET", "/api/v1/account/quotes", token))[1]["quotes"][0]["status"] == "open"


async def test_a_one_dollar_quote_paid_with_2_62_units_is_refused_and_the_admin_account_list_still_works(
    api: Api,
) -> None:
    # Given a $1 top-up quote, twice over (in the report, the second such payment overflowed SQLite)
    token, admin, key = await api.token(), await api.token("admin"), Account.create()
    for _ in range(2):
        required = await topup(api, token, 1)

        # When it is paid with a valid signature over 2**62 atomic units
        header = _x402.payment_header({**required["accepts"][0], "amount": str(2**62)}, key.key.hex())
        status, body, _ = await pay(api, token, required["quote"]["id"], header)

        # Then the payment is refused and nothing is credited
        assert (status, body["error"]["code"]) == (402, "payment_amount_too_high")
    assert (await balance(api, token))["ledger_balance_usd"] == 0

    # And the admin account list still answers, with every balance
    status, body, _ = await api.call("GET", "/api/v1/admin/accounts", admin)
    assert status == 200 and all(a["ledger_balance_usd"] == 0 for a in body["accounts"])


async def test_a_payment_that_would_take_the_account_over_the_limit_is_refused_before_funds_move(
    make_api: ApiFactory, aiohttp_server: Any
) -> None:
    from controller.billing import accounts

    # Given a real facilitator that records every call, and an account one cent short of the largest balance
    calls: list[str] = []

    async def record(request: web.Request) -> web.Response:
        calls.append(request.path)
        return web.json_response({"isValid": True, "success": True, "transaction": "0xabc"})

    facilitator = web.Application()
    facilitator.add_routes([web.post("/verify", record), web.post("/settle", record)])
    server = await aiohttp_server(facilitator)
    api = await make_api(x402_facilitator=str(server.make_url("/")), x402_pay_to="0x" + "12" * 20)
    token = await api.token()
    account_id = (await api.call("GET", "/api/v1/account", token))[1]["id"]
    await api.write(accounts.add_entry, account_id, "credit", ledger.MAX_BALANCE_MICRO - ledger.CENT_MICRO)

    # When a $1 top-up is paid
    required = await topup(api, token, 1)
    header = _x402.payment_header(required["accepts"][0], Account.create().key.hex())
    status, body, _ = await pay(api, token, required["quote"]["id"], header)

    # Then it is refused with how much still fits, the facilitator was never asked, and the quote stays open
    assert (status, body["error"]["code"]) == (422, "balance_limit_exceeded")
    assert body["error"]["details"]["room_usd"] == 0.01
    assert calls == []
    assert (await api.call("GET", "/api/v1/account/quotes", token))[1]["quotes"][0]["status"] == "open"


async def test_the_local_dev_facilitator_runs_only_when_chosen_and_is_announced_as_a_warning(
    make_api: ApiFactory, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a controller with default settings, then one started with the local-dev facilitator
    await make_api()
    assert LOCAL_DEV_WARNING not in caplog.text
    await make_api(x402_facilitator=LOCAL_DEV_FACILITATOR)

    # Then only the second warns, at start, that any member can credit itself
    warnings = [r for r in caplog.records if r.levelname == "WARNING" and r.getMessage() == LOCAL_DEV_WARNING]
    assert len(warnings) == 1 and "any member can credit itself" in LOCAL_DEV_WARNING


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"COMPUTALOT_X402_FACILITATOR": "local-dev"}, "local-dev"),
        ({"COMPUTALOT_X402_FACILITATOR_URL": "https://f.example"}, "https://f.example"),
        ({}, ""),
    ],
)
def test_the_facilitator_setting_comes_from_the_environment(env: dict[str, str], expected: str) -> None:
    # Given the environment of a controller, When its settings are read, Then the facilitator is the one named
    assert Settings.from_env(env).x402_facilitator == expected


@pytest.mark.parametrize("value", ["local", "LOCAL-DEV", "ftp://f.example", "f.example"])
def test_a_facilitator_that_is_neither_a_url_nor_local_dev_is_a_configuration_error(value: str) -> None:
    # Given a mistyped facilitator, When the settings are read, Then the controller refuses to start
    with pytest.raises(ConfigError, match="local-dev"):
        Settings.from_env({}, x402_facilitator=value)


async def test_paying_without_a_signature_answers_the_requirements_again(api: Api) -> None:
    token = await api.token()
    required = await topup(api, token, 3)
    status, body, headers = await api.call("POST", f"/api/v1/account/quotes/{required['quote']['id']}/pay/x402", token)
    assert status == 402 and body["accepts"] == required["accepts"]
    assert "PAYMENT-REQUIRED" in headers


async def test_an_expired_quote_cannot_be_paid(api: Api) -> None:
    from controller.billing.models import Quote

    token = await api.token()
    required = await topup(api, token, 3)
    await api.write(lambda: Quote.update(expires_at=time.time() - 1).execute())

    header = _x402.payment_header(required["accepts"][0], Account.create().key.hex())
    status, body, _ = await pay(api, token, required["quote"]["id"], header)

    assert (status, body["error"]["code"]) == (410, "quote_expired")
    assert (await api.call("GET", "/api/v1/account/quotes", token))[1]["quotes"] == []


async def test_another_accounts_quote_is_not_found(api: Api) -> None:
    mine, theirs = await api.token(), await api.token()
    required = await topup(api, theirs, 1)
    header = _x402.payment_header(required["accepts"][0], Account.create().key.hex())
    status, body, _ = await pay(api, mine, required["quote"]["id"], header)
    assert (status, body["error"]["code"]) == (404, "not_found")


@pytest.mark.parametrize("amount", [0, -1, "ten", 0.001, 10_001, None])
async def test_a_top_up_outside_one_cent_to_ten_thousand_dollars_is_invalid(api: Api, amount: Any) -> None:
    status, body, _ = await api.call(
        "POST", "/api/v1/account/quotes/topup", await api.token(), json={"amount_usd": amount}
    )
    assert (status, body["error"]["code"]) == (422, "validation_failed")


async def test_project_init_needs_five_dollars_and_succeeds_once_the_shortfall_is_paid(api: Api) -> None:
    # Given a $2 account with a project
    token = await api.token(credit_micro=2 * DOLLAR)
    assert (await api.call("POST", "/api/v1/projects", token, json={"name": "demo"}))[0] == 201

    # When it asks for init: 402 with a $3 shortfall quote, in the envelope and the PAYMENT-REQUIRED header
    status, body, headers = await api.call("POST", "/api/v1/projects/demo/init", token)
    assert (status, body["error"]["code"]) == (402, "insufficient_balance")
    quote = body["error"]["details"]["quote"]
    assert (quote["kind"], quote["amount_usd"], quote["required_usd"], quote["available_usd"]) == (
        "shortfall",
        3,
        5,
        2,
    )
    assert decoded(headers["PAYMENT-REQUIRED"])["accepts"] == quote["accepts"]

    # And the quote is paid with x402
    header = _x402.payment_header(quote["accepts"][0], Account.create().key.hex())
    assert (await pay(api, token, quote["id"], header))[0] == 200

    # Then the same request succeeds (202) and is recorded, and init itself cost nothing
    status, body, _ = await api.call("POST", "/api/v1/projects/demo/init", token)
    assert status == 202 and body["status"] == "init_requested" and body["project"] == "demo"
    assert (await balance(api, token))["available_usd"] == 5


async def test_presets_show_their_hourly_rates(api: Api) -> None:
    status, body, _ = await api.call("GET", "/api/v1/presets", await api.token("viewer"))
    assert status == 200
    presets = {p["name"]: p for p in body["presets"]}
    assert "cpu-small" in presets
    assert all(set(p) >= {"name", "profile", "requirements", "usd_per_hour"} for p in presets.values())
    assert all(isinstance(r["usd_per_hour"], float | int) for r in body["recipes"])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/account/quotes/topup"),
        ("POST", "/api/v1/account/quotes/qt_x/pay/x402"),
        ("POST", "/api/v1/projects/demo/init"),
    ],
)
async def test_viewers_read_money_but_cannot_move_it(api: Api, method: str, path: str) -> None:
    viewer = await api.token("viewer")
    assert (await api.call("GET", "/api/v1/account/balance", viewer))[0] == 200
    status, body, _ = await api.call(method, path, viewer, json={"amount_usd": 1})
    assert (status, body["error"]["code"]) == (403, "forbidden")


async def test_an_http_facilitator_verifies_and_settles_each_payment(make_api: ApiFactory, aiohttp_server: Any) -> None:
    # Given a facilitator that accepts the first payment and refuses the second
    seen: list[tuple[str, dict[str, Any]]] = []

    async def verify(request: web.Request) -> web.Response:
        seen.append(("verify", await request.json()))
        return web.json_response({"isValid": True, "payer": "0xpayer"})

    async def settle(request: web.Request) -> web.Response:
        seen.append(("settle", await request.json()))
        if len(seen) > 2:
            return web.json_response({"success": False, "errorReason": "insufficient_funds"})
        return web.json_response({"success": True, "transaction": "0xabc", "network": "eip155:8453"})

    facilitator = web.Application()
    facilitator.add_routes([web.post("/verify", verify), web.post("/settle", settle)])
    server = await aiohttp_server(facilitator)
    pay_to = "0x" + "12" * 20
    api = await make_api(x402_facilitator=str(server.make_url("/")), x402_pay_to=pay_to)
    token, key = await api.token(), Account.create().key.hex()

    # When two top-ups are paid
    first = await topup(api, token, 1)
    assert first["accepts"][0]["payTo"].lower() == pay_to
    status, body, _ = await pay(api, token, first["quote"]["id"], _x402.payment_header(first["accepts"][0], key))
    second = await topup(api, token, 1)
    refused = await pay(api, token, second["quote"]["id"], _x402.payment_header(second["accepts"][0], key))

    # Then the first went through /verify and /settle and was credited; the refused one credited nothing
    assert status == 200 and body["transaction"] == "0xabc"
    assert [kind for kind, _ in seen] == ["verify", "settle", "verify", "settle"]
    assert seen[0][1]["paymentRequirements"] == first["accepts"][0]
    assert seen[0][1]["paymentPayload"]["accepted"] == first["accepts"][0]
    assert (refused[0], refused[1]["error"]["code"]) == (502, "payment_settlement_failed")
    assert (await balance(api, token))["ledger_balance_usd"] == 1
    quotes = (await api.call("GET", "/api/v1/account/quotes", token))[1]["quotes"]
    assert [(q["id"], q["status"]) for q in quotes] == [(second["quote"]["id"], "open")]


@pytest.mark.parametrize("name", ["llms.txt.md", "llms-full.txt.md"])
def test_the_docs_name_every_money_and_identity_error_code(name: str) -> None:
    from controller.billing import errors as billing_errors

    modules = (billing_errors, identity_errors)
    classes = [c for m in modules for c in vars(m).values() if isinstance(c, type) and c.__module__ == m.__name__]
    leaves = [c for c in classes if hasattr(c, "code") and not c.__subclasses__()]  # bases are never answered
    codes = {c.code for c in leaves} | {InsufficientBalance.code, RateLimited.code}
    text = docs.read_doc(name)
    assert {c for c in codes if f"`{c}`" not in text} == set()
