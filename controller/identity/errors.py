"""Errors of wallet sign-in. Codes are API: documented in llms.txt, never renamed."""

from __future__ import annotations

from controller.core.errors import ComputalotError

_NEW_CHALLENGE = (
    "Ask for a new challenge (POST /api/v1/auth/wallet/challenge), sign its message, verify within 10 minutes."
)


class ChallengeInvalid(ComputalotError):
    code, status = "challenge_invalid", 401
    recommended_action = _NEW_CHALLENGE


class ChallengeUsed(ComputalotError):
    code, status = "challenge_used", 401
    recommended_action = _NEW_CHALLENGE


class ChallengeExpired(ComputalotError):
    code, status = "challenge_expired", 401
    recommended_action = _NEW_CHALLENGE


class WalletSignatureInvalid(ComputalotError):
    code, status = "wallet_signature_invalid", 401
    recommended_action = "Sign the challenge's message, unchanged, with the wallet's key (EIP-191 personal_sign)."


class WalletNotWhitelisted(ComputalotError):
    code, status = "wallet_not_whitelisted", 403
    recommended_action = "Ask an admin to whitelist the wallet (computalot-admin whitelist-wallet ADDRESS)."
