"""Accounts: the account tables, API keys and how a bearer token resolves to its account and role."""
