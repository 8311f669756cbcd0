"""Identity beyond API keys: admin-whitelisted wallets that sign in (EIP-4361) for `fls_` session tokens.

Modules: `siwe` (messages and signature recovery, pure), `wallets` (whitelist, challenges, sign-in),
`sessions` (issue and resolve tokens), `routes`.
"""

__all__ = ["routes", "sessions", "siwe", "wallets"]
