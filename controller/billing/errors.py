"""Errors of money and payments. Codes are API: documented in llms.txt, never renamed."""

from __future__ import annotations

from typing import Any

from controller.core.errors import ComputalotError

_FUND = "Pay details.quote (POST /api/v1/account/quotes/{id}/pay/x402) or ask an admin for credit, then retry."


class Shortfall(Exception):
    """Inside a write: the account cannot cover `required_micro`. Control flow, turned into a 402 after rollback."""

    def __init__(self, account_id: str, required_micro: int, available_micro: int) -> None:
        super().__init__(f"account {account_id} needs {required_micro} micro-dollars, has {available_micro}")
        self.account_id = account_id
        self.required_micro = required_micro
        self.available_micro = available_micro


class InsufficientBalance(ComputalotError):
    """402: the available balance does not cover the request; `details.quote` is the shortfall to pay."""

    code, status = "insufficient_balance", 402
    recommended_action = _FUND

    def __init__(self, message: str, quote: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(message, details={"quote": quote})
        #: x402's PAYMENT-REQUIRED header, sent with the error envelope
        self.headers = headers or {}


class InsufficientFunds(ComputalotError):
    """409: an admin debit larger than the available balance (balances never go negative)."""

    code, status = "insufficient_funds", 409
    recommended_action = "Debit at most details.available_usd, or wait for active holds to settle."


class BalanceLimitExceeded(ComputalotError):
    """422: a credit would take the account over the most an account may hold (`ledger.MAX_BALANCE_MICRO`)."""

    code, status = "balance_limit_exceeded", 422
    recommended_action = "Credit at most details.room_usd, or spend part of the balance first."


class AmountTooLarge(ComputalotError):
    """422: a request would need more money than one quote may ask for (`ledger.MAX_AMOUNT_MICRO`)."""

    code, status = "amount_too_large", 422
    recommended_action = "Split the work into smaller requests, or ask an admin to credit the account first."


class PaymentsUnavailable(ComputalotError):
    """503: this controller has no x402 facilitator, so it accepts no payment (it would credit unsettled money)."""

    code, status = "payments_unavailable", 503
    recommended_action = (
        "This controller takes no x402 payments: ask an admin for credit (computalot-admin credit). "
        "Operators: start it with --x402-facilitator <facilitator URL>."
    )


class QuoteExpired(ComputalotError):
    code, status = "quote_expired", 410
    recommended_action = "Ask for a new quote (POST /api/v1/account/quotes/topup, or retry the blocked request)."


class QuoteAlreadyPaid(ComputalotError):
    code, status = "quote_already_paid", 409
    recommended_action = "Nothing to do: the quote was paid and credited once; see GET /api/v1/account/ledger."


class PaymentRefused(ComputalotError):
    """The PAYMENT-SIGNATURE was not accepted; nothing was credited."""

    code, status = "payment_refused", 402
    recommended_action = (
        "Sign a new EIP-3009 authorization for exactly the quote's accepts[0] (its amount, payTo, network and asset) "
        "and send it again."
    )


class PaymentMalformed(PaymentRefused):
    code, status = "payment_malformed", 400
    recommended_action = (
        "Send PAYMENT-SIGNATURE: base64 of {x402Version: 2, accepted, payload: {signature, authorization}}."
    )


class PaymentSignatureInvalid(PaymentRefused):
    code = "payment_signature_invalid"


class PaymentWrongRecipient(PaymentRefused):
    code = "payment_wrong_recipient"


class PaymentAmountTooLow(PaymentRefused):
    code = "payment_amount_too_low"


class PaymentAmountTooHigh(PaymentRefused):
    """The `exact` scheme moves exactly the quote's amount: more is refused, never credited as sent."""

    code = "payment_amount_too_high"


class PaymentExpired(PaymentRefused):
    code = "payment_expired"


class PaymentNotYetValid(PaymentRefused):
    code = "payment_not_yet_valid"


class PaymentWrongNetwork(PaymentRefused):
    code = "payment_wrong_network"


class PaymentReplayed(PaymentRefused):
    code, status = "payment_replayed", 409
    recommended_action = "Each authorization pays once: sign a new one with a fresh random nonce."


class PaymentSettlementFailed(PaymentRefused):
    code, status = "payment_settlement_failed", 502
    recommended_action = "The facilitator did not settle the transfer; nothing was credited. Try again later."
