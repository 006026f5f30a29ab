"""Many SMS from one phone at once, on each database: every one is answered, none fails.

Issue 15.1: on PostgreSQL, ten "PAY" texts from one phone at the same instant deadlocked
(the inbound row's foreign key took a share lock on the customer before the code's own
FOR UPDATE). Each text now locks the customer it is about before writing anything.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from core.models import InboundSms, SmsMessage, StkRequest
from core.unit_of_work import CoreServices
from core.usecases.stk import SELF_SERVICE_PUSHES
from ussd.sms.commands import IncomingSms, SmsAnswer, answer_sms

WANJIKU = "+254712345678"


def _answer_all(db_services: CoreServices, texts: list[str]) -> list[SmsAnswer | BaseException]:
    """Answer every text in its own thread and transaction, all released at once."""
    start = threading.Barrier(len(texts))

    def one(number: int, text: str) -> SmsAnswer | BaseException:
        start.wait()
        try:
            with db_services.unit_of_work() as uow:
                answer = answer_sms(uow, IncomingSms(WANJIKU, text, f"in-{number}"))
                uow.commit()
                return answer
        except Exception as error:
            return error

    with ThreadPoolExecutor(len(texts)) as pool:
        return list(pool.map(one, range(len(texts)), texts))


@pytest.mark.parametrize("texts", [["PAY"] * 10, ["PAY 300", "STATUS", "LIPA", "DETAILS"] * 3])
def test_simultaneous_texts_from_one_phone_are_all_answered(db_services, isp, stored, texts):
    outcomes = _answer_all(db_services, texts)

    assert [o for o in outcomes if isinstance(o, BaseException)] == []
    assert len(stored(InboundSms)) == len(texts)
    pays = sum(1 for text in texts if text.split()[0] in ("PAY", "LIPA"))
    # The rate limit is counted under the customer's lock: never more pushes than it allows.
    assert len(stored(StkRequest)) == min(pays, SELF_SERVICE_PUSHES)
    assert len(stored(SmsMessage)) >= 1


def test_ten_pay_texts_at_once_over_http_get_no_error(serve, at_sms, stored):
    """The issue's reproduction: the real app over HTTP, ten "PAY" callbacks at the same time."""
    stack = serve(sms=at_sms)
    url = f"{stack.base_url}/sms/inbound"
    start = threading.Barrier(10)

    def post(number: int) -> int:
        start.wait()
        form = {"from": WANJIKU, "text": "PAY", "id": f"http-{number}", "to": "22384"}
        return httpx.post(url, data=form, timeout=30).status_code

    with ThreadPoolExecutor(10) as pool:
        statuses = list(pool.map(post, range(10)))

    assert statuses == [200] * 10
    assert len(stored(InboundSms)) == 10
    assert len(stored(StkRequest)) == SELF_SERVICE_PUSHES
