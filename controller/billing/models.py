"""Money tables: the ledger, holds, quotes and x402 payments. Every amount is integer micro-dollars."""

from __future__ import annotations

import peewee as pw

from controller.accounts.models import Account
from controller.core.models import BaseModel, JSONField
from controller.jobs.models import Job


class LedgerEntry(BaseModel):
    """One credit (positive) or debit (negative). The ledger balance is their sum; rows are never changed."""

    #: also the listing order and the `before` cursor of GET /api/v1/account/ledger
    id = pw.BigAutoField()
    account = pw.ForeignKeyField(Account, backref="ledger_entries", on_delete="CASCADE")
    account_id: str
    #: credit (admin) | debit (admin) | topup (x402) | charge (a job's settlement)
    kind = pw.CharField(max_length=16)
    amount_micro = pw.BigIntegerField()
    job = pw.ForeignKeyField(Job, null=True, backref="ledger_entries", on_delete="SET NULL")
    job_id: str | None
    quote_id = pw.CharField(max_length=40, null=True)
    reason = pw.TextField(default="")
    #: makes an entry happen once: `charge:<job>`, `x402:<quote>`, `bootstrap:<account>`; null for admin entries
    ref = pw.CharField(max_length=120, null=True, unique=True)
    created_at = pw.DoubleField()

    class Meta:
        indexes = ((("account", "id"), False),)


class Hold(BaseModel):
    """The most a job can cost, reserved at submit and settled once when the job ends."""

    id = pw.CharField(primary_key=True, max_length=40)
    account = pw.ForeignKeyField(Account, backref="holds", on_delete="CASCADE")
    account_id: str
    job = pw.ForeignKeyField(Job, unique=True, backref="holds", on_delete="CASCADE")
    job_id: str
    amount_micro = pw.BigIntegerField()
    #: the rate the job was priced at when submitted
    rate_micro_usd_per_hour = pw.BigIntegerField()
    #: task-milliseconds of the attempts that ran so far
    used_ms = pw.BigIntegerField(default=0)
    #: active | settled
    status = pw.CharField(max_length=16, default="active", index=True)
    charged_micro = pw.BigIntegerField(null=True)
    created_at = pw.DoubleField()
    settled_at = pw.DoubleField(null=True)

    class Meta:
        indexes = ((("account", "status"), False),)


class Quote(BaseModel):
    """An amount to fund: asked for (`topup`) or computed when a request was refused (`shortfall`)."""

    id = pw.CharField(primary_key=True, max_length=40)
    account = pw.ForeignKeyField(Account, backref="quotes", on_delete="CASCADE")
    account_id: str
    #: topup | shortfall
    kind = pw.CharField(max_length=16)
    amount_micro = pw.BigIntegerField()
    #: what the money is for, e.g. "POST /api/v1/jobs"
    purpose = pw.CharField(max_length=300, default="")
    #: shortfall quotes: required_micro and available_micro when the request was refused
    details = JSONField(default=dict)
    #: open | settling | paid
    status = pw.CharField(max_length=16, default="open", index=True)
    created_at = pw.DoubleField()
    expires_at = pw.DoubleField()
    paid_at = pw.DoubleField(null=True)


class Payment(BaseModel):
    """One x402 authorization presented for a quote; its nonce is unique, so an authorization is used once."""

    id = pw.CharField(primary_key=True, max_length=40)
    quote = pw.ForeignKeyField(Quote, backref="payments", on_delete="CASCADE")
    quote_id: str
    account = pw.ForeignKeyField(Account, backref="payments", on_delete="CASCADE")
    account_id: str
    network = pw.CharField(max_length=64)
    asset = pw.CharField(max_length=42)
    payer = pw.CharField(max_length=42, index=True)
    pay_to = pw.CharField(max_length=42)
    value_micro = pw.BigIntegerField()
    nonce = pw.CharField(max_length=66, unique=True)
    valid_before = pw.BigIntegerField()
    signature = pw.TextField()
    #: settling | settled | failed
    status = pw.CharField(max_length=16, default="settling")
    transaction = pw.CharField(max_length=200, null=True)
    error = pw.TextField(null=True)
    created_at = pw.DoubleField()
    settled_at = pw.DoubleField(null=True)


#: Part of `controller.schema.MODELS`.
BILLING_MODELS: list[type[BaseModel]] = [LedgerEntry, Hold, Quote, Payment]
