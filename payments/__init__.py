"""M-Pesa (Safaricom Daraja) adapter: a typed client and callback parsers. The fake Daraja for
tests and the demo is in `sim.daraja`, outside the production packages.

Standalone: plain typed values in and out, no dependency on mteja's core.
"""

from payments.callbacks import (
    C2B_REJECTION_CODES,
    MAX_CALLBACK_BYTES,
    C2BPayment,
    MalformedCallback,
    StkCallback,
    c2b_accept,
    c2b_confirmation_ack,
    c2b_reject,
    parse_c2b,
    parse_stk_callback,
    stk_callback_ack,
    stk_result_text,
)
from payments.daraja import (
    PAYBILL,
    PRODUCTION_BASE_URL,
    SANDBOX_BASE_URL,
    TILL,
    DarajaAuthFailed,
    DarajaClient,
    DarajaConfig,
    DarajaError,
    DarajaRejected,
    DarajaUnavailable,
    StkPushAccepted,
    StkQueryResult,
    StkQueryStatus,
)
from payments.phone import InvalidPhoneNumber, normalize_msisdn, to_e164

__all__ = [
    "C2B_REJECTION_CODES",
    "MAX_CALLBACK_BYTES",
    "PAYBILL",
    "PRODUCTION_BASE_URL",
    "SANDBOX_BASE_URL",
    "TILL",
    "C2BPayment",
    "DarajaAuthFailed",
    "DarajaClient",
    "DarajaConfig",
    "DarajaError",
    "DarajaRejected",
    "DarajaUnavailable",
    "InvalidPhoneNumber",
    "MalformedCallback",
    "StkCallback",
    "StkPushAccepted",
    "StkQueryResult",
    "StkQueryStatus",
    "c2b_accept",
    "c2b_confirmation_ack",
    "c2b_reject",
    "normalize_msisdn",
    "parse_c2b",
    "parse_stk_callback",
    "stk_callback_ack",
    "stk_result_text",
    "to_e164",
]
