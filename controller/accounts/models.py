"""Account tables: accounts and the API keys (`flk_`) that resolve to them."""

from __future__ import annotations

import peewee as pw

from controller.core.models import BaseModel


class Account(BaseModel):
    id = pw.CharField(primary_key=True, max_length=40)
    name = pw.CharField(max_length=200)
    #: admin | member | viewer
    role = pw.CharField(max_length=16, default="member")
    webhook_secret = pw.CharField(max_length=80)
    created_at = pw.DoubleField()


class ApiKey(BaseModel):
    id = pw.CharField(primary_key=True, max_length=40)
    account = pw.ForeignKeyField(Account, backref="keys", on_delete="CASCADE")
    account_id: str
    #: sha256 hex of the whole token; the token itself is never stored
    key_hash = pw.CharField(max_length=64, unique=True)
    #: first characters of the token, to tell keys apart in listings
    prefix = pw.CharField(max_length=16)
    label = pw.CharField(max_length=200, default="")
    created_at = pw.DoubleField()
    revoked_at = pw.DoubleField(null=True)
