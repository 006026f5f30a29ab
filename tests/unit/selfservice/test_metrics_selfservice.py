"""USSD sessions and SMS sends are counted as they happen."""

from __future__ import annotations

import pytest
from huey import MemoryHuey

from core.ports import GatewayRejected, RecordingNotifier, SmsSent
from core.unit_of_work import CoreServices
from core.usecases.sms import queue_sms
from jobs.messages import MessageRuntime, register_message_tasks
from mteja.metrics import PrometheusMetrics
from tests.unit.selfservice.conftest import WANJIKU


@pytest.fixture
def metrics(services: CoreServices) -> PrometheusMetrics:
    services.metrics = PrometheusMetrics()
    return services.metrics


def test_a_ussd_session_is_counted_once_however_many_screens_it_shows(
    metrics, dial, subscribers
) -> None:
    assert metrics.registry.get_sample_value("mteja_ussd_sessions_total") == 0

    dial(WANJIKU, "1")
    dial(WANJIKU)

    assert metrics.registry.get_sample_value("mteja_ussd_sessions_total") == 2


class ChoosySms:
    """Sends to every number but one, which the provider refuses."""

    refused = "+254700000001"

    def send(self, phone: str, body: str) -> SmsSent:
        if phone == self.refused:
            raise GatewayRejected("the number is barred")
        return SmsSent("ATXid_1", "KES 0.8000", "sent", None)


def test_sms_sends_are_counted_by_outcome(services: CoreServices, metrics) -> None:
    huey = MemoryHuey("sms-tests", immediate=True, utc=True)
    runtime = MessageRuntime(services=services, sms=ChoosySms(), notifier=RecordingNotifier())
    tasks = register_message_tasks(huey, lambda: runtime)
    for phone in ("+254712345678", "+254712345679", ChoosySms.refused):
        with services.unit_of_work() as uow:
            message_id = queue_sms(uow, phone, "Asante!", "test").id
            uow.commit()
        tasks.send_sms(message_id)

    sample = metrics.registry.get_sample_value
    assert sample("mteja_sms_total", {"status": "sent"}) == 2
    assert sample("mteja_sms_total", {"status": "failed"}) == 1
