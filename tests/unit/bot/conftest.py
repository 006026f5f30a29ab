"""Fixtures for the command layer: a small ISP, one staff member per role, and a chat with the bot.

``chat(role)`` talks to the real StaffBot as that staff member: ``say(text)`` sends a message,
``press(answer, label)`` presses the button whose label starts with ``label``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from bot.answers import Answer
from bot.staffbot import Caller, StaffBot
from core.actors import Actor
from core.models import Customer
from core.unit_of_work import CoreServices
from core.usecases.customers import NewCustomer, create_customer
from core.usecases.network import RouterSpec, add_pool, add_router
from core.usecases.plans import PlanSpec, add_plan
from core.usecases.staff import add_staff
from routers.sync import LiveSession, Presence

USER_IDS = {"owner": 1001, "admin": 1002, "agent": 1003, "viewer": 1004}
STRANGER_ID = 4242


@pytest.fixture
def isp(services: CoreServices, staff: Actor) -> None:
    """A router with a pool, plans of each type, and one member of staff per role."""
    with services.unit_of_work() as uow:
        add_router(
            uow, staff, RouterSpec("core-1", "127.0.0.1", 8728, "admin", "secret", plain_api=True)
        )
        add_pool(uow, staff, "core-1", "10.10.0.0/28")
        add_plan(uow, staff, PlanSpec("Home 10M", "pppoe", 1500, "10M", "5M", validity_days=30))
        add_plan(uow, staff, PlanSpec("Home 20M", "pppoe", 2500, "20M", "10M", validity_days=30))
        add_plan(uow, staff, PlanSpec("Daily 5M", "hotspot", 50, "5M", "2M", validity_hours=24))
        add_plan(uow, staff, PlanSpec("Biz 50M", "static", 6000, "50M", "50M", validity_days=30))
        for role, user_id in USER_IDS.items():
            add_staff(uow, staff, user_id, f"{role.title()} Person", role)
        uow.commit()


@dataclass
class FakePresence:
    """The router's view of each customer, as the card asks for it; records who was asked."""

    state: str = "online"
    asked: list[int] = field(default_factory=list)

    def __call__(self, customer_id: int) -> Presence:
        self.asked.append(customer_id)
        if self.state == "online":
            return Presence("online", LiveSession("10.10.0.2", "1h2m", 1_200_000, 34_500_000))
        return Presence(
            self.state, reason="router not answering" if self.state == "unknown" else None
        )


@pytest.fixture
def presence() -> FakePresence:
    return FakePresence()


@pytest.fixture
def staff_bot(services: CoreServices, isp: None, presence: FakePresence) -> StaffBot:
    return StaffBot(services, presence=presence)


class Chat:
    """One staff member's conversation with the bot."""

    def __init__(self, staff_bot: StaffBot, user_id: int) -> None:
        self.bot = staff_bot
        self.caller = Caller(user_id, "test user")

    def say(self, text: str) -> Answer:
        return self.bot.text(self.caller, text)

    def press(self, answer: Answer, label: str) -> Answer:
        for button in answer.button_list():
            if button.label.startswith(label):
                return self.bot.press(self.caller, button.data)
        labels = [button.label for button in answer.button_list()]
        raise AssertionError(f"no button {label!r} among {labels}")

    def press_data(self, data: str) -> Answer:
        return self.bot.press(self.caller, data)

    def send_file(self, name: str, content: bytes, caption: str = "") -> Answer:
        return self.bot.document(self.caller, name, content, caption)


ChatFor = Callable[[str], Chat]


@pytest.fixture
def chat(staff_bot: StaffBot) -> ChatFor:
    """``chat("admin")``: talk to the bot as the admin (or owner, agent, viewer, stranger)."""

    def open_chat(role: str) -> Chat:
        return Chat(staff_bot, USER_IDS.get(role, STRANGER_ID))

    return open_chat


def labels(answer: Answer) -> list[str]:
    return [button.label for button in answer.button_list()]


@pytest.fixture
def button_labels() -> Callable[[Answer], list[str]]:
    return labels


MakeCustomer = Callable[..., Customer]


@pytest.fixture
def make_customer(services: CoreServices, staff: Actor, isp: None) -> MakeCustomer:
    """A PPPoE customer on Home 10M; ``paid=N`` records N shillings cash (1500 renews 30 days)."""
    counter = iter(range(1, 1000))

    def make(paid: int | None = None, **fields: Any) -> Customer:
        number = next(counter)
        form: dict[str, Any] = {
            "full_name": f"Wanjiku Kamau {number}",
            "phone": f"07123456{number:02d}",
            "connection_type": "pppoe",
            "plan": "Home 10M",
            "router": "core-1",
            "send_welcome": False,  # tests count the SMS the bot's actions queue
        }
        if paid is not None:
            form.update(payment_method="cash", amount_kes=paid)
        form.update(fields)
        with services.unit_of_work() as uow:
            created = create_customer(uow, staff, NewCustomer(**form))
            uow.commit()
            return created.customer

    return make


@pytest.fixture
def read_customer(services: CoreServices) -> Callable[[int], SimpleNamespace]:
    """The stored customer: every column, and ``plan`` as the plan's name."""

    def read(customer_id: int) -> SimpleNamespace:
        with services.unit_of_work() as uow:
            customer = uow.session.get(Customer, customer_id)
            assert customer is not None
            values = {c.key: getattr(customer, c.key) for c in Customer.__table__.columns}
            return SimpleNamespace(**values, plan=customer.plan.name)

    return read
