"""A fake Africa's Talking SMS API for tests, the demo and benchmarks.

It answers ``POST /version1/messaging`` as Africa's Talking does (the ``apiKey`` header and the
``username`` form field checked; ``SMSMessageData`` with one entry per recipient), records every
message, and posts delivery reports (and, for the demo, inbound messages) to our callbacks in
the real form encoding. The real ``AfricasTalkingSms`` adapter runs against it unchanged through
``MTEJA_AT_BASE_URL``.

Outcomes per phone (``set_outcome``): ``success`` (101 Success), ``invalid`` (403
InvalidPhoneNumber), ``blacklisted`` (406 UserInBlacklist), ``insufficient`` (405
InsufficientBalance), ``server_error`` (HTTP 500).

Control endpoints (for the demo and for other processes):
  POST /_fake/outcome  {"phone"?: "+2547…", "outcome": "blacklisted"}
  POST /_fake/deliver  {"id": "ATXid_…", "status"?: "Success", "failureReason"?: "…"}
  POST /_fake/inbound  {"from": "+2547…", "text": "STATUS"}
  GET  /_fake/state
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
import secrets
import threading
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from sim.delayed_jobs import DelayedJobs
from sim.serving import BackgroundServer

__all__ = ["FakeAfricasTalking", "FakeAfricasTalkingServer", "FakeSms", "run_fake_africastalking"]

log = logging.getLogger(__name__)

DEFAULT_USERNAME = "sandbox"
DEFAULT_API_KEY = "fake-at-api-key"
DEFAULT_SHORT_CODE = "22384"
COST_PER_SEGMENT = 0.8
_PHONE = re.compile(r"^\+\d{7,15}$")

# outcome -> (statusCode, status) of the recipient entry; server_error is an HTTP 500 instead.
_OUTCOMES: dict[str, tuple[int, str]] = {
    "success": (101, "Success"),
    "invalid": (403, "InvalidPhoneNumber"),
    "insufficient": (405, "InsufficientBalance"),
    "blacklisted": (406, "UserInBlacklist"),
}
OUTCOMES = (*_OUTCOMES, "server_error")


@dataclass(frozen=True)
class FakeSms:
    """One recipient of one send request, as the fake answered it."""

    message_id: str | None
    to: str
    message: str
    sender_id: str | None
    status_code: int
    status: str
    cost: str


@dataclass(frozen=True)
class SentReport:
    """A callback the fake posted. ``status_code`` None: our side could not be reached."""

    url: str
    form: dict[str, str]
    status_code: int | None


class FakeRequestRefused(Exception):
    def __init__(self, http_status: int, text: str) -> None:
        super().__init__(text)
        self.http_status = http_status
        self.text = text


class FakeAfricasTalking:
    """State and behaviour of the fake; ``app`` serves it. Thread-safe."""

    def __init__(
        self,
        *,
        username: str = DEFAULT_USERNAME,
        api_key: str = DEFAULT_API_KEY,
        delivery_url: str | None = None,
        inbound_url: str | None = None,
        auto_deliver: bool = False,
        delivery_delay_seconds: float = 0.0,
    ) -> None:
        self.username = username
        self.api_key = api_key
        self.delivery_url = delivery_url
        self.inbound_url = inbound_url
        self.auto_deliver = auto_deliver
        self.delivery_delay_seconds = delivery_delay_seconds
        self._lock = threading.Condition(threading.RLock())
        self._default_outcome = "success"
        self._outcomes: dict[str, str] = {}
        self._jobs = DelayedJobs(name="fake-at-reports", workers=2)
        self._http: httpx.Client | None = None
        self._app: Starlette | None = None
        # What tests assert on.
        self.requests: list[dict[str, str]] = []
        self.sent: list[FakeSms] = []
        self.reports_sent: list[SentReport] = []

    # --- control ----------------------------------------------------------------------------

    def set_outcome(self, outcome: str, *, phone: str | None = None) -> None:
        """How sends to ``phone`` (or, without one, to every other phone) end."""
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
        with self._lock:
            if phone is None:
                self._default_outcome = outcome
            else:
                self._outcomes[phone] = outcome

    def deliver(
        self,
        message_id: str,
        status: str = "Success",
        failure_reason: str | None = None,
        retry_count: int = 0,
    ) -> SentReport:
        """Post a delivery report for ``message_id`` to ``delivery_url``, as AT does."""
        with self._lock:
            sms = next((s for s in self.sent if s.message_id == message_id), None)
            url = self.delivery_url
        if url is None:
            raise ValueError("no delivery_url configured")
        form = {
            "id": message_id,
            "status": status,
            "phoneNumber": sms.to if sms else "",
            "networkCode": "63902",
            "retryCount": str(retry_count),
        }
        if failure_reason is not None:
            form["failureReason"] = failure_reason
        return self._post(url, form)

    def send_inbound(
        self, phone: str, text: str, *, short_code: str = DEFAULT_SHORT_CODE
    ) -> SentReport:
        """Post an SMS from ``phone`` to ``inbound_url``, as AT does when a subscriber texts."""
        if self.inbound_url is None:
            raise ValueError("no inbound_url configured")
        form = {
            "from": phone,
            "to": short_code,
            "text": text,
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "id": secrets.token_hex(16),
            "linkId": "",
            "networkCode": "63902",
        }
        return self._post(self.inbound_url, form)

    def wait_for_reports(self, count: int, timeout: float = 10.0) -> list[SentReport]:
        """Block until ``count`` callbacks were posted; TimeoutError otherwise."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self.reports_sent) >= count, timeout):
                raise TimeoutError(f"expected {count} reports, got {len(self.reports_sent)}")
            return list(self.reports_sent)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "sent": [asdict(sms) for sms in self.sent],
                "reports_sent": len(self.reports_sent),
                "delivery_url": self.delivery_url,
                "inbound_url": self.inbound_url,
            }

    def close(self) -> None:
        """Stop pending reports and close the outgoing HTTP client."""
        self._jobs.stop()
        with self._lock:
            http, self._http = self._http, None
        if http is not None:
            http.close()

    # --- the messaging API ------------------------------------------------------------------

    def accept(self, form: dict[str, str], api_key: str) -> dict[str, Any]:
        """POST /version1/messaging: check, record, answer (FakeRequestRefused for errors)."""
        with self._lock:
            self.requests.append(dict(form))
        if (
            not secrets.compare_digest(api_key, self.api_key)
            or form.get("username") != self.username
        ):
            raise FakeRequestRefused(401, "The supplied authentication is invalid")
        for field in ("to", "message"):
            if not form.get(field):
                raise FakeRequestRefused(400, f"Request is missing required form field '{field}'")
        recipients = [phone.strip() for phone in form["to"].split(",") if phone.strip()]
        with self._lock:
            outcomes = [self._outcomes.get(p, self._default_outcome) for p in recipients]
        if "server_error" in outcomes:
            raise FakeRequestRefused(500, "Internal Server Error")
        entries = [self._entry(p, o, form) for p, o in zip(recipients, outcomes, strict=True)]
        accepted = [entry for entry in entries if entry.message_id is not None]
        total = sum(float(entry.cost.removeprefix("KES ")) for entry in accepted)
        with self._lock:
            self.sent += entries
        if self.auto_deliver:
            for entry in accepted:
                message_id = entry.message_id
                assert message_id is not None
                self._jobs.submit(self.delivery_delay_seconds, partial(self.deliver, message_id))
        return {
            "SMSMessageData": {
                "Message": f"Sent to {len(accepted)}/{len(entries)} Total Cost: KES {total:.4f}",
                "Recipients": [
                    {
                        "statusCode": entry.status_code,
                        "number": entry.to,
                        "status": entry.status,
                        "cost": entry.cost,
                        "messageId": entry.message_id or "None",
                    }
                    for entry in entries
                ],
            }
        }

    def _entry(self, phone: str, outcome: str, form: dict[str, str]) -> FakeSms:
        if not _PHONE.match(phone):
            outcome = "invalid"
        code, status = _OUTCOMES[outcome]
        message = form["message"]
        if code != 101:
            return FakeSms(None, phone, message, form.get("from"), code, status, "0")
        segments = 1 if len(message) <= 160 else math.ceil(len(message) / 153)
        cost = f"KES {segments * COST_PER_SEGMENT:.4f}"
        message_id = "ATXid_" + secrets.token_hex(16)
        return FakeSms(message_id, phone, message, form.get("from"), code, status, cost)

    # --- HTTP -------------------------------------------------------------------------------

    @property
    def app(self) -> Starlette:
        if self._app is None:
            self._app = _build_app(self)
        return self._app

    def _client(self) -> httpx.Client:
        with self._lock:
            if self._http is None:
                self._http = httpx.Client(timeout=10.0)
            return self._http

    def _post(self, url: str, form: dict[str, str]) -> SentReport:
        try:
            response = self._client().post(url, data=form)
            report = SentReport(url, form, response.status_code)
        except httpx.HTTPError as error:
            log.warning("fake Africa's Talking could not post to %s: %s", url, error)
            report = SentReport(url, form, None)
        with self._lock:
            self.reports_sent.append(report)
            self._lock.notify_all()
        return report


def _build_app(fake: FakeAfricasTalking) -> Starlette:
    async def messaging(request: Request) -> Response:
        form = {key: str(value) for key, value in (await request.form()).items()}
        try:
            answer = fake.accept(form, request.headers.get("apikey", ""))
        except FakeRequestRefused as refused:
            return PlainTextResponse(refused.text, status_code=refused.http_status)
        # Exactly "application/json": the SDK decodes JSON only for that content type.
        return JSONResponse(answer, status_code=201, media_type="application/json")

    async def control(request: Request) -> Response:
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("a JSON object is expected")
            action = request.path_params["action"]
            if action == "outcome":
                fake.set_outcome(str(body["outcome"]), phone=body.get("phone"))
                return JSONResponse({"ok": True})
            if action == "deliver":
                report = await run_in_threadpool(
                    fake.deliver,
                    str(body["id"]),
                    str(body.get("status", "Success")),
                    body.get("failureReason"),
                )
                return JSONResponse({"status_code": report.status_code})
            if action == "inbound":
                report = await run_in_threadpool(
                    fake.send_inbound, str(body["from"]), str(body.get("text", ""))
                )
                return JSONResponse({"status_code": report.status_code})
        except (KeyError, ValueError, TypeError) as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        return JSONResponse({"error": "unknown control"}, status_code=404)

    async def state(request: Request) -> JSONResponse:
        return JSONResponse(fake.snapshot())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await run_in_threadpool(fake.close)

    return Starlette(
        routes=[
            Route("/version1/messaging", messaging, methods=["POST"]),
            Route("/_fake/state", state, methods=["GET"]),
            Route("/_fake/{action}", control, methods=["POST"]),
        ],
        lifespan=lifespan,
    )


class FakeAfricasTalkingServer:
    """Serve a FakeAfricasTalking on 127.0.0.1 at a free port; stop() or ``with`` ends it."""

    def __init__(self, fake: FakeAfricasTalking | None = None, **options: Any) -> None:
        self.fake = fake if fake is not None else FakeAfricasTalking(**options)
        self._server = BackgroundServer(self.fake.app).start()
        self.base_url = self._server.base_url

    def stop(self) -> None:
        self._server.stop()
        self.fake.close()

    def __enter__(self) -> FakeAfricasTalkingServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def run_fake_africastalking(host: str = "127.0.0.1", port: int = 8098, **options: Any) -> None:
    """Serve a fake Africa's Talking until interrupted (for the CLI demo)."""
    fake = FakeAfricasTalking(**options)
    try:
        uvicorn.run(fake.app, host=host, port=port, log_level="info")
    finally:
        fake.close()
