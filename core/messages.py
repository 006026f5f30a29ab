"""Every text a subscriber reads, in English and Kiswahili, in one place.

Texts are short: one SMS is 160 characters, and a USSD screen is read on a feature phone.
"""

from __future__ import annotations

import re
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
        "en": "KES {amount} received ({receipt}). Pay KES {shortfall} more to renew {plan}."
        "[ Paybill {paybill}, acc {account}.]",
        "sw": "KES {amount} imepokelewa ({receipt}). Lipa KES {shortfall} zaidi kulipia {plan}."
        "[ Paybill {paybill}, akaunti {account}.]",
    },
    "payment_suspended": {
        "en": "KES {amount} received ({receipt}) and kept as credit. Your account {account} is "
        "suspended[: call {support}].",
        "sw": "KES {amount} imepokelewa ({receipt}) na kuwekwa kama salio. Akaunti {account} "
        "imesimamishwa[: piga {support}].",
    },
    "stk_failed": {
        "en": "{reason}[ To pay for {account}, use paybill {paybill}.]",
        "sw": "{reason}[ Kulipia {account}, tumia paybill {paybill}.]",
    },
    # -- notices sent without being asked (reminders and the expired notice obey STOP) ---------
    "welcome": {
        "en": "Welcome to {isp}! Account {account}, login {username}, password {password}."
        "[ Pay by M-Pesa paybill {paybill}, account {account}.]",
        "sw": "Karibu {isp}! Akaunti {account}, jina {username}, nenosiri {password}."
        "[ Lipa kwa M-Pesa paybill {paybill}, akaunti {account}.]",
    },
    "login_details": {
        "en": "{isp}: account {account}, login {username}, password {password}.",
        "sw": "{isp}: akaunti {account}, jina {username}, nenosiri {password}.",
    },
    "welcome_static": {
        "en": "Welcome to {isp}! Account {account}, your address is {ip}."
        "[ Pay by M-Pesa paybill {paybill}, account {account}.]",
        "sw": "Karibu {isp}! Akaunti {account}, anwani yako ni {ip}."
        "[ Lipa kwa M-Pesa paybill {paybill}, akaunti {account}.]",
    },
    "renewed_from_credit": {
        "en": "{isp}: {plan} renewed from your credit until {expires}. Balance KES {balance}. "
        "Acc {account}.",
        "sw": "{isp}: {plan} imelipiwa kutoka salio lako hadi {expires}. Salio KES {balance}. "
        "Akaunti {account}.",
    },
    "reminder": {
        "en": "{isp}: {plan} for {account} ends {expires}. Pay KES {amount}[ to paybill "
        "{paybill}, acc {account}]. Reply STOP to end reminders.",
        "sw": "{isp}: {plan} ya {account} inaisha {expires}. Lipa KES {amount}[ paybill "
        "{paybill}, akaunti {account}]. Tuma STOP kusimamisha vikumbusho.",
    },
    "expired_notice": {
        "en": "{isp}: {plan} for {account} ended {expires}. Pay KES {amount}[ to paybill "
        "{paybill}, acc {account}] to get back online.",
        "sw": "{isp}: {plan} ya {account} iliisha {expires}. Lipa KES {amount}[ paybill "
        "{paybill}, akaunti {account}] kurudi mtandaoni.",
    },
    "suspended_notice": {
        "en": "{isp}: account {account} is suspended.[ Please call {support}.]",
        "sw": "{isp}: akaunti {account} imesimamishwa.[ Tafadhali piga {support}.]",
    },
    # -- data caps (sent whatever STOP says: they explain the service, they do not remind) -------
    "data_cap_warning": {
        "en": "{isp}: {account} has used {used} of the {cap} in {plan} (80%). Renew for a new "
        "allowance[: paybill {paybill}, acc {account}].",
        "sw": "{isp}: {account} imetumia {used} kati ya {cap} za {plan} (80%). Lipia upya kupata "
        "kiasi kipya[: paybill {paybill}, akaunti {account}].",
    },
    "data_cap_throttled": {
        "en": "{isp}: {account} has used all {cap} of {plan}. Speed is {speed} until you renew"
        "[: paybill {paybill}, acc {account}].",
        "sw": "{isp}: {account} imetumia {cap} zote za {plan}. Kasi ni {speed} hadi ulipie upya"
        "[: paybill {paybill}, akaunti {account}].",
    },
    "data_cap_blocked": {
        "en": "{isp}: {account} has used all {cap} of {plan}. Service is paused until you renew"
        "[: paybill {paybill}, acc {account}].",
        "sw": "{isp}: {account} imetumia {cap} zote za {plan}. Huduma imesimama hadi ulipie upya"
        "[: paybill {paybill}, akaunti {account}].",
    },
    # -- answers to what a subscriber asked (USSD and SMS) --------------------------------------
    "payment_details": {
        "en": "Pay {isp} by M-Pesa: paybill {paybill}, account {account}. "
        "KES {amount} renews {plan}.",
        "sw": "Lipa {isp} kwa M-Pesa: paybill {paybill}, akaunti {account}. "
        "KES {amount} inalipia {plan}.",
    },
    "payment_details_no_paybill": {
        "en": "Account {account}: KES {amount} renews {plan}.[ To pay, call {support}.]",
        "sw": "Akaunti {account}: KES {amount} inalipia {plan}.[ Kulipa, piga {support}.]",
    },
    "stk_sent": {
        "en": "Check your phone for the M-Pesa PIN prompt: KES {amount} for {account}.",
        "sw": "Angalia simu yako uweke PIN ya M-Pesa: KES {amount} kwa {account}.",
    },
    "stk_limited": {
        "en": "You asked for 3 M-Pesa prompts in 10 minutes. Wait a little[, or pay by paybill "
        "{paybill}, account {account}].",
        "sw": "Umeomba maombi 3 ya M-Pesa kwa dakika 10. Subiri kidogo[, au lipa kwa paybill "
        "{paybill}, akaunti {account}].",
    },
    "stk_unavailable": {
        "en": "We could not send the M-Pesa prompt.[ Pay by paybill {paybill}, account {account}.]",
        "sw": "Hatukuweza kutuma ombi la M-Pesa.[ Lipa kwa paybill {paybill}, akaunti {account}.]",
    },
    "suspended": {
        "en": "Account {account} is suspended.[ Please call {support}.]",
        "sw": "Akaunti {account} imesimamishwa.[ Tafadhali piga {support}.]",
    },
    "unregistered": {
        "en": "This phone is not registered with {isp}.[ For help call {support}.]",
        "sw": "Simu hii haijasajiliwa na {isp}.[ Kwa msaada piga {support}.]",
    },
    "ticket_opened": {
        "en": "Thank you. Ticket {ticket} is open; {isp} will contact you soon.",
        "sw": "Asante. Tiketi {ticket} imefunguliwa; {isp} watawasiliana nawe hivi karibuni.",
    },
    "ticket_resolved": {
        "en": "{isp}: your ticket #{ticket} is resolved: {resolution}",
        "sw": "{isp}: tiketi yako #{ticket} imeshughulikiwa: {resolution}",
    },
    "plan_changed": {
        "en": "Done. {plan} starts at your next renewal.",
        "sw": "Imekamilika. {plan} itaanza utakapolipia tena.",
    },
    "account_summary": {
        "en": "Acc {account}\nPlan: {plan}\nStatus: {status}\nExpires: {expires}\n{balance}",
        "sw": "Akaunti {account}\nKifurushi: {plan}\nHali: {status}\nInaisha: {expires}\n{balance}",
    },
    "next_plan": {"en": "Next: {plan}", "sw": "Kijacho: {plan}"},
    "data_used": {"en": "Data: {used} of {cap}", "sw": "Data: {used} kati ya {cap}"},
    "data_used_capped": {
        "en": "Data: {used} of {cap} (limit reached)",
        "sw": "Data: {used} kati ya {cap} (kikomo)",
    },
    "balance_credit": {"en": "Credit: KES {amount}", "sw": "Salio: KES {amount}"},
    "balance_debt": {"en": "Debt: KES {amount}", "sw": "Deni: KES {amount}"},
    "balance_zero": {"en": "Balance: KES 0", "sw": "Salio: KES 0"},
    # -- USSD screens -----------------------------------------------------------------------------
    "ussd_choose_account": {"en": "Choose an account:", "sw": "Chagua akaunti:"},
    "ussd_main": {
        "en": "1. My account\n2. Pay / renew\n3. Change package\n4. Payment details by SMS\n"
        "5. Report a problem\n6. Language",
        "sw": "1. Akaunti yangu\n2. Lipa / lipia upya\n3. Badilisha kifurushi\n"
        "4. Maelezo ya malipo kwa SMS\n5. Ripoti tatizo\n6. Lugha",
    },
    "ussd_back": {"en": "0. Back", "sw": "0. Rudi"},
    "ussd_more": {"en": "98. More", "sw": "98. Zaidi"},
    "ussd_invalid": {"en": "Invalid choice.", "sw": "Chaguo si sahihi."},
    "ussd_invalid_amount": {
        "en": "Enter a whole amount, KES 1 to {maximum}.",
        "sw": "Weka kiasi kamili, KES 1 hadi {maximum}.",
    },
    "ussd_pay": {
        "en": "Pay KES {amount} to renew {plan} ({validity}) for {account}.\n"
        "1. Pay with M-Pesa\n2. Another amount",
        "sw": "Lipa KES {amount} kulipia {plan} ({validity}) ya {account}.\n"
        "1. Lipa kwa M-Pesa\n2. Kiasi kingine",
    },
    "ussd_amount": {"en": "Enter the amount in KES:", "sw": "Weka kiasi kwa KES:"},
    "ussd_pay_confirm": {
        "en": "Pay KES {amount} for {account} with M-Pesa?\n1. Confirm",
        "sw": "Lipa KES {amount} kwa {account} kwa M-Pesa?\n1. Thibitisha",
    },
    "ussd_plans": {
        "en": "New package, from your next renewal:",
        "sw": "Kifurushi kipya, ukilipia tena:",
    },
    "ussd_no_plans": {
        "en": "There is no other package for your connection.[ Call {support}.]",
        "sw": "Hakuna kifurushi kingine cha muunganisho wako.[ Piga {support}.]",
    },
    "ussd_plan_confirm": {
        "en": "Change to {plan}, KES {price} / {validity}, from your next renewal?\n1. Confirm",
        "sw": "Badilisha kuwa {plan}, KES {price} / {validity}, utakapolipia tena?\n1. Thibitisha",
    },
    "ussd_details_sent": {
        "en": "We have sent the payment details to you by SMS.",
        "sw": "Tumekutumia maelezo ya malipo kwa SMS.",
    },
    "ussd_ticket_menu": {
        "en": "What is the problem?\n1. No internet\n2. Slow internet\n3. Other",
        "sw": "Tatizo ni lipi?\n1. Hakuna intaneti\n2. Intaneti ni polepole\n3. Jingine",
    },
    "ussd_language_menu": {
        "en": "Choose a language:\n1. English\n2. Kiswahili",
        "sw": "Chagua lugha:\n1. English\n2. Kiswahili",
    },
    "language_set": {
        "en": "Language set to English.",
        "sw": "Lugha imewekwa: Kiswahili.",
    },
    "ussd_restart": {
        "en": "This session has ended. Please dial again.",
        "sw": "Kipindi hiki kimeisha. Tafadhali piga tena.",
    },
    "ussd_error": {
        "en": "Sorry, something went wrong. Please try again later.",
        "sw": "Samahani, kuna hitilafu. Tafadhali jaribu tena baadaye.",
    },
    # -- SMS keywords ----------------------------------------------------------------------------
    "sms_help": {
        "en": "{isp}: send STATUS for your account, PAY or PAY 500 to pay by M-Pesa, DETAILS for "
        "payment details, STOP/START for reminders.",
        "sw": "{isp}: tuma HALI kuona akaunti, LIPA au LIPA 500 kulipa kwa M-Pesa, MAELEZO kwa "
        "maelezo ya malipo, STOP/START kwa vikumbusho.",
    },
    "sms_status_line": {
        "en": "{account}: {plan}, {status}, until {expires}. {balance}.",
        "sw": "{account}: {plan}, {status}, hadi {expires}. {balance}.",
    },
    "sms_status_line_unpaid": {
        "en": "{account}: {plan}, {status}. {balance}.",
        "sw": "{account}: {plan}, {status}. {balance}.",
    },
    "sms_more_accounts": {"en": "+{count} more accounts.", "sw": "+akaunti {count} zaidi."},
    "sms_which_account": {
        "en": "You have several accounts. Send {keyword} with the account, e.g. {example}.",
        "sw": "Una akaunti kadhaa. Tuma {keyword} pamoja na akaunti, mfano {example}.",
    },
    "sms_unknown_account": {
        "en": "{reference} is not one of this phone's accounts: {accounts}.",
        "sw": "{reference} si akaunti ya simu hii: {accounts}.",
    },
    "sms_bad_amount": {
        "en": "Send PAY with a whole amount from KES 1 to {most}, e.g. PAY 500.",
        "sw": "Tuma LIPA na kiasi kamili kati ya KES 1 na {most}, mfano LIPA 500.",
    },
    "sms_stop": {
        "en": "You will get no more expiry reminders; receipts still come. Send START to turn "
        "them on.",
        "sw": "Hutapata tena vikumbusho vya muda kuisha; risiti bado zitakuja. Tuma START "
        "kuviwasha.",
    },
    "sms_start": {
        "en": "Expiry reminders are on. Send STOP to turn them off.",
        "sw": "Vikumbusho vya muda kuisha vimewashwa. Tuma STOP kuvizima.",
    },
}

_STATUS_WORDS: dict[str, dict[str, str]] = {
    "active": {"en": "active", "sw": "inatumika"},
    "expiring": {"en": "ending soon", "sw": "inakaribia kuisha"},
    "expired": {"en": "expired", "sw": "imeisha"},
    "suspended": {"en": "suspended", "sw": "imesimamishwa"},
    "inactive": {"en": "not started", "sw": "haijaanza"},
}

LANGUAGE_NAMES: dict[Language, str] = {"en": "English", "sw": "Kiswahili"}


def as_language(text: str | None) -> Language:
    """``text`` if it names a supported language, else English."""
    return "sw" if text == "sw" else "en"


def status_word(status: str, language: str = "en") -> str:
    """A customer status in the subscriber's words."""
    words = _STATUS_WORDS.get(status)
    if words is None:
        return status
    return words.get(language, words["en"])


def validity_text(hours: int, language: str = "en") -> str:
    """``30 days`` / ``siku 30``, ``24 hours`` / ``saa 24``."""
    if language == "sw":
        return f"siku {hours // 24}" if hours % 24 == 0 else f"saa {hours}"
    if hours % 24 == 0:
        days = hours // 24
        return f"{days} day" + ("" if days == 1 else "s")
    return f"{hours} hour" + ("" if hours == 1 else "s")


def render(key: str, language: str = "en", **values: object) -> str:
    """The ``key`` text in ``language`` (English if unknown) with ``values`` filled in.

    A ``[...]`` part of a text is left out when a value it names is empty: a sentence about the
    paybill when the ISP has none, "call …" when no support phone is set (core.contacts), rather
    than "paybill -" or "call mteja ISP".
    """
    texts = _TEXTS[key]
    template = texts.get(language, texts["en"])
    return _OPTIONAL_PART.sub(lambda part: _kept(part.group(1), values), template).format(**values)


_OPTIONAL_PART = re.compile(r"\[([^\[\]]*)\]")
_FIELD = re.compile(r"\{(\w+)")


def _kept(part: str, values: dict[str, object]) -> str:
    return part if all(values.get(name) not in (None, "") for name in _FIELD.findall(part)) else ""


def template_fields(key: str, language: str = "en") -> set[str]:
    """The values the ``key`` text names (for tests and checks)."""
    return set(_FIELD.findall(_TEXTS[key].get(language, _TEXTS[key]["en"])))


def all_keys() -> list[str]:
    """Every text's key."""
    return list(_TEXTS)
