"""/metrics through the real app: who may scrape it, and the M-Pesa and USSD metrics moving as
callbacks arrive."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from core.unit_of_work import CoreServices
from mteja.metrics import PrometheusMetrics, instrument
from mteja.web import build_app
from tests.integration.payments.conftest import SAFARICOM_ADDRESS, settings_for

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

METRICS_TOKEN = "scrape-7d41b9e2"


def get(app, source: str, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=(source, 40123))
        async with httpx.AsyncClient(transport=transport, base_url="http://mteja.test") as client:
            return await client.get(path, headers=headers or {})

    return asyncio.run(send())


@pytest.fixture
def metered(isp: CoreServices) -> PrometheusMetrics:
    metrics = PrometheusMetrics()
    instrument(isp, metrics)
    return metrics


def app_with_metrics(services: CoreServices, metrics: PrometheusMetrics, token: str = ""):
    settings = settings_for().model_copy(update={"metrics_token": token})
    return build_app(settings, services, metrics=metrics)


@pytest.mark.parametrize("source", ["127.0.0.1", "::1"])
def test_metrics_answer_loopback_without_a_token(isp, metered, source) -> None:
    response = get(app_with_metrics(isp, metered), source, "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "mteja_customers_sync_pending 0.0" in response.text


def test_metrics_refuse_other_addresses_when_no_token_is_set(isp, metered) -> None:
    app = app_with_metrics(isp, metered)
    assert get(app, "10.0.0.5", "/metrics").status_code == 403
    bearer = {"Authorization": "Bearer anything"}
    assert get(app, "10.0.0.5", "/metrics", bearer).status_code == 403
    assert get(app, "testclient", "/metrics").status_code == 403


def test_metrics_answer_other_addresses_only_with_the_token(isp, metered) -> None:
    app = app_with_metrics(isp, metered, METRICS_TOKEN)
    assert get(app, "10.0.0.5", "/metrics").status_code == 403
    wrong = {"Authorization": f"Bearer {METRICS_TOKEN}x"}
    assert get(app, "10.0.0.5", "/metrics", wrong).status_code == 403
    basic = {"Authorization": f"Basic {METRICS_TOKEN}"}
    assert get(app, "10.0.0.5", "/metrics", basic).status_code == 403
    right = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    response = get(app, "10.0.0.5", "/metrics", right)
    assert response.status_code == 200
    assert "mteja_mpesa_callbacks_total" in response.text


def test_no_metrics_route_without_metrics(isp) -> None:
    assert get(build_app(settings_for(), isp), "127.0.0.1", "/metrics").status_code == 404


def test_a_paybill_payment_counts_the_callback_and_the_credit(isp, metered, store, post) -> None:
    from tests.integration.payments.conftest import AppClient

    client = AppClient(app_with_metrics(isp, metered), SAFARICOM_ADDRESS)
    subscriber = store.customer()
    sample = metered.registry.get_sample_value

    answer = post(client, "c2b_confirmation", store.c2b(subscriber.account_number, 1500, "TX1A"))
    assert answer.status_code == 200

    labels = {"kind": "c2b_confirmation", "outcome": "processed"}
    assert sample("mteja_mpesa_callbacks_total", labels) == 1
    assert sample("mteja_payments_credited_total", {"method": "mpesa"}) == 1
    assert sample("mteja_payments_unmatched_total", {"method": "mpesa"}) is None

    post(client, "c2b_confirmation", store.c2b("NOBODY99", 700, "TX2B"))
    assert sample("mteja_mpesa_callbacks_total", labels) == 2
    assert sample("mteja_payments_unmatched_total", {"method": "mpesa"}) == 1
    assert sample("mteja_payments_credited_total", {"method": "mpesa"}) == 1

    post(client, "c2b_validation", store.c2b("NOBODY99", 700, "TX3C"))
    rejected = {"kind": "c2b_validation", "outcome": "rejected"}
    assert sample("mteja_mpesa_callbacks_total", rejected) == 1

    assert post(client, "c2b_confirmation", b"{not json").status_code == 400
    malformed = {"kind": "c2b_confirmation", "outcome": "malformed"}
    assert sample("mteja_mpesa_callbacks_total", malformed) == 1


def test_an_stk_result_is_counted_by_outcome(isp, metered, store, post) -> None:
    from tests.integration.payments.conftest import AppClient

    client = AppClient(app_with_metrics(isp, metered), SAFARICOM_ADDRESS)
    subscriber = store.customer()
    checkout = store.sent_push(subscriber.id, 1500)

    assert post(client, "stk", store.stk(checkout, "SKP1Q2W3E4", 1500)).status_code == 200

    sample = metered.registry.get_sample_value
    assert sample("mteja_stk_results_total", {"outcome": "paid"}) == 1
    assert sample("mteja_payments_credited_total", {"method": "mpesa"}) == 1
