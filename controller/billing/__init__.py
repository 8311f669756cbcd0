"""Money: rates, holds placed with jobs and settled when they end, the ledger, quotes and x402 top-ups.

Amounts are integer micro-dollars throughout (`ledger`); the API shows `*_usd` decimals. Modules:
`ledger` (pure arithmetic), `pricing` (rates and holds of a job spec), `accounts` (balances, credits,
debits), `holds` (place, meter, settle), `quotes`, `x402` (requirements and verification),
`facilitator`, `payments`, `routes`.
"""

__all__ = [
    "accounts",
    "facilitator",
    "holds",
    "ledger",
    "payments",
    "pricing",
    "quotes",
    "routes",
    "x402",
]
