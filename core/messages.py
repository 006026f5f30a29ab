"""Every text a subscriber reads, in English and Kiswahili, in one place.

Texts are short: one SMS is 160 characters, and a USSD screen is read on a feature phone.
"""

from __future__ import annotations

from typing import Literal

Language = Literal["en", "sw"]
LANGUAGES: tuple[Language, ...] = ("en", "sw")


STK_RESULT_TEXT_EN: dict[int, str] = {
    0: "Payment received. Thank you.",
    1: "Your M-Pesa balance is not enough for this payment.",
    1001: "Another M-Pesa payment is in progress on your phone. Wait a moment and try again.",
    1019: "The payment request expired before you completed it. Please try again.",
    1025: "There was an error sending the payment request. Please try again.",
    1032: "You cancelled the payment request.",
    1037: "We could not reach your phone. Make sure it is on and has network, then try again.",
    2001: "Wrong M-Pesa PIN entered. Please try again.",
    9999: "There was an error sending the payment request. Please try again.",
}

STK_RESULT_TEXT_SW: dict[int, str] = {
    0: "Malipo yamepokelewa. Asante.",
    1: "Salio lako la M-Pesa halitoshi kwa malipo haya.",
    1001: (
        "Kuna muamala mwingine wa M-Pesa unaoendelea kwenye simu yako. "
        "Subiri kidogo kisha ujaribu tena."
    ),
    1019: "Muda wa ombi la malipo umekwisha kabla hujakamilisha. Tafadhali jaribu tena.",
    1025: "Kulikuwa na hitilafu kutuma ombi la malipo. Tafadhali jaribu tena.",
    1032: "Umeghairi ombi la malipo.",
    1037: "Hatukuweza kufikia simu yako. Hakikisha imewashwa na ina mtandao, kisha ujaribu tena.",
    2001: "Umeweka PIN ya M-Pesa isiyo sahihi. Tafadhali jaribu tena.",
    9999: "Kulikuwa na hitilafu kutuma ombi la malipo. Tafadhali jaribu tena.",
}

_STK_FALLBACK = {
    "en": "The payment did not go through. Please try again.",
    "sw": "Malipo hayakufanikiwa. Tafadhali jaribu tena.",
}
_STK_TEXTS = {"en": STK_RESULT_TEXT_EN, "sw": STK_RESULT_TEXT_SW}


def stk_result_text(result_code: int, language: str = "en") -> str:
    """One line telling a subscriber what an STK ResultCode means ("en" or "sw")."""
    if language not in _STK_TEXTS:
        raise ValueError(f"language must be 'en' or 'sw', got {language!r}")
    return _STK_TEXTS[language].get(result_code, _STK_FALLBACK[language])


_TEXTS: dict[str, dict[str, str]] = {
    "payment_renewed": {
        "en": "Asante! KES {amount} received ({receipt}). {plan} is active until {expires}. "
        "Acc {account}.",
        "sw": "Asante! KES {amount} imepokelewa ({receipt}). {plan} inatumika hadi {expires}. "
        "Akaunti {account}.",
    },
    "payment_partial": {
        "en": "KES {amount} received ({receipt}). Pay KES {shortfall} more to renew {plan}. "
        "Paybill {paybill}, acc {account}.",
        "sw": "KES {amount} imepokelewa ({receipt}). Lipa KES {shortfall} zaidi kulipia {plan}. "
        "Paybill {paybill}, akaunti {account}.",
    },
    "payment_suspended": {
        "en": "KES {amount} received ({receipt}) and kept as credit. Your account {account} is "
        "suspended: call {support}.",
        "sw": "KES {amount} imepokelewa ({receipt}) na kuwekwa kama salio. Akaunti {account} "
        "imesimamishwa: piga {support}.",
    },
    "stk_failed": {
        "en": "{reason} To pay for {account}, use paybill {paybill}.",
        "sw": "{reason} Kulipia {account}, tumia paybill {paybill}.",
    },
}


def render(key: str, language: str = "en", **values: object) -> str:
    """The ``key`` text in ``language`` (English if unknown) with ``values`` filled in."""
    texts = _TEXTS[key]
    template = texts.get(language, texts["en"])
    return template.format(**values)
