"""The M-Pesa callback routes of the real Starlette app on SQLite and PostgreSQL: who may call
them, what a malformed body gets (a clear 400, the raw body kept, nothing credited, staff told),
paybill validation, and the replay of a callback stored but never handled."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from core.events import CallbackFlagged, PaymentReceived
from core.retry import in_transaction
from core.usecases.mpesa_callbacks import store_callback
from core.usecases.stk import claim_stk_send, mark_stk_sent, request_stk_push
from payments.callback_urls import CALLBACK_PREFIX, LEGACY_CALLBACK_PREFIX
from payments.handling import replay_unprocessed, replay_waiting_stk_callbacks

PRICE = 1500
MAX_STORED = 64 * 1024


# -- who may call ------------------------------------------------------------------------------


def test_a_wrong_token_is_not_found_and_nothing_is_stored(web: Any, post: Any, store: Any) -> None:
    customer = store.customer()
    payload = store.c2b(customer.account_number, PRICE, "SKT0000001")
    client = web()
    for prefix in (CALLBACK_PREFIX, LEGACY_CALLBACK_PREFIX):
        for kind in ("stk", "c2b_validation", "c2b_confirmation"):
            for token in ("wrong-token", "cb-token-8f2e1", "CB-TOKEN-8F2E1C", "cb-token-8f2e1c0"):
                answer = post(client, kind, payload, token, prefix)
                assert answer.status_code == 404, (prefix, kind, token)
    assert store.callbacks() == [] and store.payments() == []


def test_the_old_mpesa_paths_are_served_with_the_same_rules(
    web: Any, post: Any, store: Any
) -> None:
    # An install that registered /mpesa/... by hand keeps working; mteja no longer builds them.
    customer = store.customer()
    payload = store.c2b(customer.account_number, PRICE, "SKT0000009")
    outsider = post(
        web(source="203.0.113.9"), "c2b_confirmation", payload, prefix=LEGACY_CALLBACK_PREFIX
    )
    assert outsider.status_code == 403
    assert store.callbacks() == []
    client = web()
    validation = post(client, "c2b_validation", payload, prefix=LEGACY_CALLBACK_PREFIX)
    assert validation.status_code == 200 and validation.json()["ResultCode"] in (0, "0")
    confirmation = post(client, "c2b_confirmation", payload, prefix=LEGACY_CALLBACK_PREFIX)
    assert confirmation.status_code == 200
    assert confirmation.json() == {"ResultCode": 0, "ResultDesc": "Success"}
    assert store.payments() == [("SKT0000009", PRICE, customer.id)]
    checkout = store.sent_push(customer.id, PRICE)
    stk = post(
        client, "stk", store.stk(checkout, "SKT0000010", PRICE), prefix=LEGACY_CALLBACK_PREFIX
    )
    assert stk.status_code == 200
    assert ("SKT0000010", PRICE, customer.id) in store.payments()
    assert [row.status for row in store.callbacks()] == ["processed"] * 3


def test_a_source_outside_the_allow_list_is_refused_logged_and_nothing_is_stored(
    web: Any, post: Any, store: Any, dispatcher: Any, caplog: Any
) -> None:
    customer = store.customer()
    payload = store.c2b(customer.account_number, PRICE, "SKT0000002")
    for source in ("203.0.113.9", "196.201.214.201", "127.0.0.1", "::1"):
        for kind in ("c2b_confirmation", "stk"):
            answer = post(web(source=source), kind, payload)
            assert answer.status_code == 403, (source, kind)
        assert any(source in record.getMessage() for record in caplog.records), source
    assert store.callbacks() == [] and store.payments() == []
    assert store.state(customer.id).balance_kes == 0
    assert dispatcher.of_type(PaymentReceived) == []


def test_an_allowed_source_is_credited(web: Any, post: Any, store: Any) -> None:
    cases = [
        ("196.201.214.200", "196.201.214.200"),
        ("10.0.0.0/8, 192.168.1.7", "10.44.1.2"),
        ("10.0.0.0/8, 192.168.1.7", "192.168.1.7"),
        ("*", "203.0.113.9"),
    ]
    for number, (allowed, source) in enumerate(cases):
        customer = store.customer()
        receipt = f"SKT000010{number}"
        payload = store.c2b(customer.account_number, PRICE, receipt)
        answer = post(web(source=source, allowed_ips=allowed), "c2b_confirmation", payload)
        assert answer.status_code == 200, (allowed, source)
        assert answer.json() == {"ResultCode": 0, "ResultDesc": "Success"}
        assert (receipt, PRICE, customer.id) in store.payments()
        assert store.state(customer.id).status == "active"
        stored = store.callbacks()[-1]
        assert (stored.status, stored.remote_address, stored.reference) == (
            "processed",
            source,
            receipt,
        )


def test_stk_and_paybill_through_the_app_credit_one_receipt_once(
    web: Any, post: Any, store: Any
) -> None:
    customer = store.customer()
    checkout = store.sent_push(customer.id, PRICE)
    client = web()
    answers = [
        post(client, "stk", store.stk(checkout, "SKT0000004", PRICE)),
        post(client, "c2b_confirmation", store.c2b(customer.account_number, PRICE, "SKT0000004")),
        post(client, "stk", store.stk(checkout, "SKT0000004", PRICE)),
        post(client, "c2b_confirmation", store.c2b(customer.account_number, PRICE, "SKT0000004")),
    ]
    assert [answer.status_code for answer in answers] == [200] * 4
    assert store.payments() == [("SKT0000004", PRICE, customer.id)]
    assert store.periods(customer.id) == 1
    assert [c.status for c in store.callbacks()] == ["processed"] * 4


# -- malformed bodies ----------------------------------------------------------------------------


def _c2b_without(store: Any, account: str, field: str) -> bytes:
    payload = store.c2b(account, PRICE, "SKM0000001")
    del payload[field]
    return json.dumps(payload).encode()


def _c2b_with(store: Any, account: str, **fields: Any) -> bytes:
    payload: dict[str, Any] = store.c2b(account, PRICE, "SKM0000001")
    payload.update(fields)
    return json.dumps(payload).encode()


def _stk_with(store: Any, checkout: str, change: Any) -> bytes:
    payload = store.stk(checkout, "SKM0000002", PRICE)
    change(payload["Body"]["stkCallback"])
    return json.dumps(payload).encode()


def _drop_receipt(callback: dict[str, Any]) -> None:
    items = callback["CallbackMetadata"]["Item"]
    callback["CallbackMetadata"]["Item"] = [i for i in items if i["Name"] != "MpesaReceiptNumber"]


MALFORMED: dict[str, tuple[str, Any, str]] = {
    # name: (kind, body maker (store, account, checkout) -> bytes, words the answer must contain)
    "c2b without TransID": (
        "c2b_confirmation",
        lambda s, a, c: _c2b_without(s, a, "TransID"),
        "missing TransID",
    ),
    "c2b without TransAmount": (
        "c2b_confirmation",
        lambda s, a, c: _c2b_without(s, a, "TransAmount"),
        "missing TransAmount",
    ),
    "c2b amount as a boolean": (
        "c2b_confirmation",
        lambda s, a, c: _c2b_with(s, a, TransAmount=True),
        "TransAmount",
    ),
    "c2b amount as an object": (
        "c2b_confirmation",
        lambda s, a, c: _c2b_with(s, a, TransAmount={"value": 1500}),
        "TransAmount",
    ),
    "c2b amount in cents": (
        "c2b_confirmation",
        lambda s, a, c: _c2b_with(s, a, TransAmount="1500.50"),
        "whole number of shillings",
    ),
    "c2b negative amount": (
        "c2b_confirmation",
        lambda s, a, c: _c2b_with(s, a, TransAmount="-1500"),
        "TransAmount",
    ),
    "c2b time not a time": (
        "c2b_confirmation",
        lambda s, a, c: _c2b_with(s, a, TransTime="yesterday"),
        "TransTime",
    ),
    "c2b TransID as a list": (
        "c2b_confirmation",
        lambda s, a, c: _c2b_with(s, a, TransID=["SKM0000001"]),
        "TransID must be text",
    ),
    "not JSON": ("c2b_confirmation", lambda s, a, c: b"TransID=SKM0000001&amount=1500", "JSON"),
    "truncated JSON": (
        "c2b_confirmation",
        lambda s, a, c: _c2b_with(s, a)[:-20],
        "not valid JSON",
    ),
    "an array": (
        "c2b_confirmation",
        lambda s, a, c: json.dumps([s.c2b(a, PRICE, "SKM0000001")]).encode(),
        "an array",
    ),
    "a bare string": ("c2b_confirmation", lambda s, a, c: b'"SKM0000001"', "a string"),
    "empty body": ("c2b_confirmation", lambda s, a, c: b"", "empty"),
    "unknown shape (c2b)": (
        "c2b_confirmation",
        lambda s, a, c: b'{"hello": "world", "amount": 1500}',
        "missing",
    ),
    "NaN amount": (
        "c2b_confirmation",
        lambda s, a, c: _c2b_with(s, a).replace(b'"1500"', b"NaN"),
        "JSON",
    ),
    "stk unknown shape": ("stk", lambda s, a, c: b'{"Body": {"result": 0}}', "stkCallback"),
    "stk ResultCode not a number": (
        "stk",
        lambda s, a, c: _stk_with(s, c, lambda cb: cb.update(ResultCode="zero")),
        "ResultCode",
    ),
    "stk paid without receipt": (
        "stk",
        lambda s, a, c: _stk_with(s, c, _drop_receipt),
        "MpesaReceiptNumber",
    ),
    "stk metadata not a list": (
        "stk",
        lambda s, a, c: _stk_with(s, c, lambda cb: cb["CallbackMetadata"].update(Item={})),
        "Item must be an array",
    ),
    "stk an array": ("stk", lambda s, a, c: b"[]", "an array"),
}


def test_a_malformed_body_gets_a_clear_400_is_kept_and_flagged_and_credits_nothing(
    web: Any, post: Any, store: Any, dispatcher: Any, subtests: Any
) -> None:
    customer = store.customer()
    checkout = store.sent_push(customer.id, PRICE)
    client = web()
    for case, (kind, make_body, words) in MALFORMED.items():
        with subtests.test(msg=case):
            body = make_body(store, customer.account_number, checkout)
            dispatcher.events.clear()
            answer = post(client, kind, body)
            assert answer.status_code == 400
            reply = answer.json()
            assert reply["ResultCode"] != 0 and reply["ResultDesc"].startswith("Malformed: ")
            assert words in reply["ResultDesc"]
            stored = store.callbacks()[-1]
            assert (stored.kind, stored.status, stored.truncated) == (kind, "malformed", False)
            assert stored.body == body.decode("utf-8", errors="replace")
            assert stored.error and words in stored.error
            assert dispatcher.of_type(CallbackFlagged) == [CallbackFlagged(stored.id, stored.error)]
            assert dispatcher.of_type(PaymentReceived) == []
    assert len(store.callbacks()) == len(MALFORMED)
    assert store.payments() == []
    assert store.state(customer.id).balance_kes == 0


def test_a_one_megabyte_body_is_refused_kept_truncated_and_flagged(
    web: Any, post: Any, store: Any, dispatcher: Any
) -> None:
    customer = store.customer()
    checkout = store.sent_push(customer.id, PRICE)
    for kind in ("c2b_confirmation", "stk"):
        # A real payment padded to 1 MB: not something Safaricom sends, so nothing is believed.
        payload: dict[str, Any] = (
            store.c2b(customer.account_number, PRICE, "SKBIG00001")
            if kind == "c2b_confirmation"
            else store.stk(checkout, "SKBIG00001", PRICE)
        )
        payload["Padding"] = "x" * (1024 * 1024)
        body = json.dumps(payload).encode()
        dispatcher.events.clear()
        answer = post(web(), kind, body)
        assert answer.status_code == 400
        assert "larger than 64 KiB" in answer.json()["ResultDesc"]
        stored = store.callbacks()[-1]
        assert (stored.kind, stored.status, stored.truncated) == (kind, "malformed", True)
        assert stored.body == body[:MAX_STORED].decode()
        assert [type(event) for event in dispatcher.events] == [CallbackFlagged]
    assert store.payments() == [] and store.state(customer.id).balance_kes == 0


# -- paybill validation ----------------------------------------------------------------------


def test_validation_accepts_a_known_account_and_rejects_others(
    web: Any, post: Any, store: Any
) -> None:
    customer = store.customer()
    client = web()
    known = post(client, "c2b_validation", store.c2b(customer.account_number.lower(), 10, "SKV1"))
    unknown = post(client, "c2b_validation", store.c2b("MTJ-NOBODY1", 10, "SKV2"))
    other_shortcode = store.c2b(customer.account_number, 10, "SKV3")
    other_shortcode["BusinessShortCode"] = "600000"
    elsewhere = post(client, "c2b_validation", other_shortcode)
    assert (known.status_code, known.json()) == (200, {"ResultCode": "0", "ResultDesc": "Accepted"})
    assert (unknown.status_code, unknown.json()["ResultCode"]) == (200, "C2B00012")
    assert unknown.json()["ResultDesc"] == "Invalid Account Number"
    assert elsewhere.json()["ResultCode"] == "C2B00015"
    assert [c.status for c in store.callbacks()] == ["processed", "rejected", "rejected"]
    assert store.payments() == []  # validation moves no money


# -- replaying what was stored but never handled ----------------------------------------------


def test_a_callback_stored_but_never_handled_is_replayed_once(
    store: Any, clock: Any, dispatcher: Any
) -> None:
    customer = store.customer()
    checkout = store.sent_push(customer.id, PRICE)
    bodies = {
        "c2b_confirmation": store.c2b(customer.account_number, PRICE, "SKRP000001"),
        "stk": store.stk(checkout, "SKRP000002", PRICE),
        "c2b_validation": store.c2b(customer.account_number, PRICE, "SKRP000003"),
    }
    for kind, payload in bodies.items():
        # The process died right after storing the body.
        in_transaction(
            store.services,
            lambda uow, kind=kind, payload=payload: store_callback(
                uow, kind, json.dumps(payload).encode(), "196.201.214.200"
            ),
        )
    assert replay_unprocessed(store.services, "174379") == 0  # too fresh: maybe still in hand
    clock.advance(timedelta(seconds=31))
    assert replay_unprocessed(store.services, "174379") == 2  # validations are past caring
    assert [c.status for c in store.callbacks()] == ["processed", "processed", "received"]
    assert store.payments() == [
        ("SKRP000001", PRICE, customer.id),
        ("SKRP000002", PRICE, customer.id),
    ]
    assert store.periods(customer.id) == 2
    assert replay_unprocessed(store.services, "174379") == 0
    assert len(store.payments()) == 2


# -- a callback that overtakes the push's answer -------------------------------------------------


def test_an_stk_callback_before_its_push_is_stored_waits_and_is_paid_once_it_is(
    web: Any, post: Any, store: Any, dispatcher: Any
) -> None:
    customer = store.customer()
    queued = in_transaction(
        store.services, lambda uow: request_stk_push(uow, customer.id, store.staff, PRICE)
    )
    in_transaction(store.services, lambda uow: claim_stk_send(uow, queued.stk_request_id))
    checkout = "ws_CO_22112026120000999001"
    # Safaricom answers the callback URL before the worker has stored the CheckoutRequestID.
    answer = post(web(), "stk", store.stk(checkout, "SKEARLY001", PRICE, customer.phone))
    assert answer.status_code == 200
    assert [c.status for c in store.callbacks()] == ["received"]
    assert dispatcher.of_type(CallbackFlagged) == []
    assert store.payments() == []

    in_transaction(
        store.services,
        lambda uow: mark_stk_sent(uow, queued.stk_request_id, "29115-999", checkout),
    )
    assert replay_waiting_stk_callbacks(store.services) == 1
    assert [c.status for c in store.callbacks()] == ["processed"]
    assert store.payments() == [("SKEARLY001", PRICE, customer.id)]
    assert store.periods(customer.id) == 1
    assert replay_waiting_stk_callbacks(store.services) == 0


def test_an_unknown_stk_callback_is_flagged_when_no_push_is_being_sent_or_after_the_wait(
    web: Any, post: Any, store: Any, clock: Any, dispatcher: Any
) -> None:
    customer = store.customer()
    client = web()
    post(client, "stk", store.stk("ws_CO_NOT_OURS_1", "SKSTRAY001", PRICE))
    assert [c.status for c in store.callbacks()] == ["flagged"]

    queued = in_transaction(
        store.services, lambda uow: request_stk_push(uow, customer.id, store.staff, PRICE)
    )  # a push stuck being sent (Daraja slow): the stray callback may wait, but not for ever
    in_transaction(store.services, lambda uow: claim_stk_send(uow, queued.stk_request_id))
    post(client, "stk", store.stk("ws_CO_NOT_OURS_2", "SKSTRAY002", PRICE))
    assert [c.status for c in store.callbacks()] == ["flagged", "received"]
    clock.advance(timedelta(minutes=11))
    assert replay_unprocessed(store.services, "174379") == 1
    assert [c.status for c in store.callbacks()] == ["flagged", "flagged"]
    assert len(dispatcher.of_type(CallbackFlagged)) == 2
    assert store.payments() == []
