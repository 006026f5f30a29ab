"""Bot conversations live in the database: a form survives a restart, several processes share it.

Each ``StaffBot`` here has its own engine on the same database, as two ``mteja web`` workers (or a
``mteja bot`` before and after a restart) would.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select

import bot.conversations
from bot.answers import Answer
from bot.staffbot import Caller, StaffBot
from core.actors import Actor
from core.clock import FrozenClock
from core.db import make_engine, make_read_session_factory, make_session_factory
from core.models import BotConversation, Payment
from core.unit_of_work import CoreServices
from core.usecases.customers import NewCustomer, create_customer
from core.usecases.network import RouterSpec, add_pool, add_router
from core.usecases.plans import PlanSpec, add_plan
from core.usecases.staff import add_staff

ADMIN = Caller(1002, "admin", chat_id=1002)
TYPED_PASSWORD = "Zebra-Pass-9731"


@pytest.fixture
def isp(db_services: CoreServices) -> None:
    cli = Actor.cli()
    with db_services.unit_of_work() as uow:
        add_router(
            uow, cli, RouterSpec("core-1", "127.0.0.1", 8728, "admin", "secret", plain_api=True)
        )
        add_pool(uow, cli, "core-1", "10.10.0.0/28")
        add_plan(uow, cli, PlanSpec("Home 10M", "pppoe", 1500, "10M", "5M", validity_days=30))
        add_staff(uow, cli, ADMIN.user_id, "Admin Person", "admin")
        uow.commit()


@pytest.fixture
def second_process(db_services: CoreServices, database_url: str) -> Iterator[CoreServices]:
    """Services of another process: its own engine on the same database, the same secret key."""
    engine: Engine = make_engine(database_url)
    yield dataclasses.replace(
        db_services,
        session_factory=make_session_factory(engine),
        read_session_factory=make_read_session_factory(engine),
    )
    engine.dispose()


def press(bot: StaffBot, answer: Answer, label: str) -> Answer:
    for button in answer.button_list():
        if button.label.startswith(label):
            return bot.press(ADMIN, button.data)
    raise AssertionError(f"no button {label!r} among {[b.label for b in answer.button_list()]}")


def stored_states(services: CoreServices) -> list[str]:
    with services.unit_of_work() as uow:
        return list(uow.session.scalars(select(BotConversation.state)))


def test_a_form_started_in_one_process_is_finished_in_another(
    db_services: CoreServices, second_process: CoreServices, isp: None
) -> None:
    first, second = StaffBot(db_services), StaffBot(second_process)
    answer = press(first, first.text(ADMIN, "/add"), "PPPoE")
    # "Restart": the next updates reach another process, which never saw the form.
    answer = press(second, answer, "Home 10M")
    answer = press(first, answer, "core-1")
    answer = press(second, answer, "Pick automatically")
    answer = first.text(ADMIN, "Amina Njeri")
    answer = second.text(ADMIN, "0712000111")
    answer = first.text(ADMIN, "amina")
    answer = second.text(ADMIN, TYPED_PASSWORD)
    assert "Paid" not in answer.text and "how was it paid" in answer.text
    # The password typed into the form is stored, but never in clear.
    states = stored_states(db_services)
    assert states and all(TYPED_PASSWORD not in state for state in states)
    answer = press(first, answer, "No payment now")
    answer = press(second, answer, "None")
    answer = press(first, answer, "KES 1,500")
    answer = press(second, answer, "No, later")
    assert f"Password: {TYPED_PASSWORD}" in answer.text
    done = press(first, answer, "✅ Create customer")
    assert "Customer added" in done.text and f"amina / {TYPED_PASSWORD}" in done.text
    # The form is closed everywhere: its buttons no longer work in the other process.
    again = press(second, answer, "✅ Create customer")
    assert "closed" in again.text


def test_a_password_waiting_for_confirmation_is_not_stored_in_clear(
    db_services: CoreServices, isp: None
) -> None:
    staff_bot = StaffBot(db_services)
    with db_services.unit_of_work() as uow:
        created = create_customer(
            uow,
            Actor.cli(),
            NewCustomer("Baraka Otieno", "0712000222", "pppoe", "Home 10M", "core-1"),
        )
        account = created.customer.account_number
        uow.commit()
    prompt = staff_bot.text(ADMIN, f"/passwd {account} {TYPED_PASSWORD}")
    assert "Set a new login password" in prompt.text
    assert all(TYPED_PASSWORD not in state for state in stored_states(db_services))
    done = press(StaffBot(db_services), prompt, "Yes, change it")
    assert TYPED_PASSWORD in done.text


def test_an_idle_form_expires(db_services: CoreServices, isp: None, clock: FrozenClock) -> None:
    staff_bot = StaffBot(db_services)
    answer = press(staff_bot, staff_bot.text(ADMIN, "/add"), "PPPoE")
    clock.advance(timedelta(minutes=31))
    expired = press(StaffBot(db_services), answer, "Home 10M")
    assert "this form has expired" in expired.text.lower()
    typed = staff_bot.text(ADMIN, "Amina Njeri")
    assert "Send a command" in typed.text
    # A fresh form works again.
    assert "Connection type" in staff_bot.text(ADMIN, "/add").text


def test_typing_into_an_expired_form_says_so(
    db_services: CoreServices, isp: None, clock: FrozenClock
) -> None:
    staff_bot = StaffBot(db_services)
    answer = press(staff_bot, staff_bot.text(ADMIN, "/add"), "PPPoE")
    answer = press(staff_bot, answer, "Home 10M")
    answer = press(staff_bot, answer, "core-1")
    answer = press(staff_bot, answer, "Pick automatically")
    clock.advance(timedelta(minutes=45))
    assert "this form has expired" in staff_bot.text(ADMIN, "Amina Njeri").text.lower()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_confirmation_pressed_in_two_processes_at_once_runs_once(
    db_services: CoreServices,
    second_process: CoreServices,
    isp: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with db_services.unit_of_work() as uow:
        created = create_customer(
            uow,
            Actor.cli(),
            NewCustomer("Baraka Otieno", "0712000222", "pppoe", "Home 10M", "core-1"),
        )
        customer_id = created.customer.id
        uow.commit()
    prompt = StaffBot(db_services).press(ADMIN, f"qp:{customer_id}:1500")
    assert "Record KES 1,500 cash" in prompt.text
    yes = next(b.data for b in prompt.button_list() if b.label.startswith("Yes"))

    # Both processes read the conversation before either acts on it: the race at its worst.
    both_loaded = threading.Barrier(2, timeout=10)
    waited: set[int] = set()
    real_load = bot.conversations.load_conversation

    def load_then_wait(*args: object, **kwargs: object) -> object:
        loaded = real_load(*args, **kwargs)  # type: ignore[arg-type]
        if threading.get_ident() not in waited:
            waited.add(threading.get_ident())
            both_loaded.wait()
        return loaded

    monkeypatch.setattr(bot.conversations, "load_conversation", load_then_wait)
    answers: list[str] = []
    failures: list[BaseException] = []

    def press_in(services: CoreServices) -> Callable[[], None]:
        def run() -> None:
            try:
                answers.append(StaffBot(services).press(ADMIN, yes).text)
            except BaseException as problem:  # reported below, in the test's thread
                failures.append(problem)

        return run

    threads = [threading.Thread(target=press_in(s)) for s in (db_services, second_process)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not failures, failures
    assert len(answers) == 2
    assert sum("already used" in text for text in answers) == 1, answers
    with db_services.unit_of_work() as uow:
        payments = uow.session.scalar(
            select(func.count()).select_from(Payment).where(Payment.customer_id == customer_id)
        )
    assert payments == 1


def test_an_import_asked_for_in_one_process_reads_the_file_in_another(
    db_services: CoreServices, second_process: CoreServices, isp: None
) -> None:
    assert "Send the CSV file now" in StaffBot(db_services).text(ADMIN, "/import").text
    other = StaffBot(second_process)
    assert other.refuse_document(ADMIN) is None
    content = b"name,phone,plan,router\nAmina Njeri,0712000111,Home 10M,core-1\n"
    answer = other.document(ADMIN, "customers.csv", content)
    assert answer.job is not None
    assert list(answer.job.steps())
    assert "1 customer(s) added" in answer.job.finish().text
    # The file was taken: the next one is not awaited.
    assert "send /import first" in StaffBot(db_services).document(ADMIN, "again.csv", content).text


def test_a_conversation_belongs_to_one_chat(db_services: CoreServices, isp: None) -> None:
    staff_bot = StaffBot(db_services)
    in_group = dataclasses.replace(ADMIN, chat_id=-100123)
    press(staff_bot, staff_bot.text(ADMIN, "/add"), "PPPoE")
    assert "Send a command" in staff_bot.text(in_group, "Amina Njeri").text
    # The private chat's form is untouched by the group's message.
    assert "Router?" in staff_bot.text(ADMIN, "Home 10M").text


def test_save_pressed_twice_saves_once(
    db_services: CoreServices, second_process: CoreServices, isp: None
) -> None:
    with db_services.unit_of_work() as uow:
        created = create_customer(
            uow,
            Actor.cli(),
            NewCustomer("Baraka Otieno", "0712000222", "pppoe", "Home 10M", "core-1"),
        )
        account = created.customer.account_number
        uow.commit()
    review = StaffBot(db_services).text(ADMIN, f"/edit {account} name Baraka O. Otieno")
    assert "Save these changes" in review.text
    saved = press(StaffBot(second_process), review, "✅ Save")
    assert "Saved: name." in saved.text
    again = press(StaffBot(db_services), review, "✅ Save")
    assert "This form is closed" in again.text
