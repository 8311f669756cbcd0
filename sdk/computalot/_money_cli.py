"""`computalot balance | ledger | quotes | topup`: the account's money from the command line."""

from __future__ import annotations

import os
from typing import Any

import click

from . import _render as render


def _show(obj: Any, answer: Any, lines: list[str]) -> None:
    if obj.as_json:
        render.echo_json(answer)
    else:
        render.echo_lines(lines)


def _balance_line(balance: dict[str, Any]) -> str:
    return (
        f"ledger {balance['ledger_balance_usd']} USD, held {balance['held_usd']} USD, "
        f"available {balance['available_usd']} USD"
    )


@click.command()
@click.pass_obj
def balance(obj: Any) -> None:
    """Show the ledger balance, the held amount and what is available."""
    answer = obj.client.get_balance()
    _show(obj, answer, [_balance_line(answer)])


@click.command()
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 500), help="Entries, newest first.")
@click.option("--before", type=int, help="Cursor from a previous page's next_before.")
@click.pass_obj
def ledger(obj: Any, limit: int, before: int | None) -> None:
    """List credits and debits, each with its job or quote."""
    answer = obj.client.list_ledger(limit=limit, before=before)
    lines = [
        f"{render.when(e.get('created_at'))}  {e['amount_usd']:>12} USD  {e['kind']:<7} "
        f"{e.get('job_id') or e.get('quote_id') or ''}  {e.get('reason', '')}"
        for e in answer.get("entries", [])
    ]
    if answer.get("next_before"):
        lines.append(f"more: --before {answer['next_before']}")
    _show(obj, answer, lines)


@click.command()
@click.pass_obj
def quotes(obj: Any) -> None:
    """List open top-up and shortfall quotes."""
    answer = obj.client.list_quotes()
    lines = [
        f"{q['id']}  {q['amount_usd']} USD  {q['kind']}  {q.get('purpose', '')}  expires {q.get('expires_at')}"
        for q in answer.get("quotes", [])
    ]
    _show(obj, answer, lines or ["no open quotes"])


_KEY_ENV = click.option(
    "--key-env",
    default="COMPUTALOT_WALLET_KEY",
    show_default=True,
    help="Environment variable holding the paying wallet's private key (needs computalot[x402]).",
)


def _key(key_env: str) -> str:
    key = os.environ.get(key_env)
    if not key:
        raise click.UsageError(f"set {key_env} to the paying wallet's private key")
    return key


def _paid(obj: Any, answer: dict[str, Any]) -> None:
    _show(obj, answer, [f"credited {answer['credited_usd']} USD; {_balance_line(answer['balance'])}"])


@click.command()
@click.argument("amount_usd")
@_KEY_ENV
@click.pass_obj
def topup(obj: Any, amount_usd: str, key_env: str) -> None:
    """Fund the account with AMOUNT_USD of USDC through x402, signed with the key in --key-env."""
    _paid(obj, obj.client.top_up_x402(amount_usd, _key(key_env)))


@click.command("pay-quote")
@click.argument("quote_id")
@_KEY_ENV
@click.pass_obj
def pay_quote(obj: Any, quote_id: str, key_env: str) -> None:
    """Pay an open quote (a shortfall from a refused request, or a top-up) through x402."""
    _paid(obj, obj.client.pay_quote_x402(quote_id, _key(key_env)))


COMMANDS = (balance, ledger, quotes, topup, pay_quote)
