"""The ``mteja`` command line: set-up, customers, the card, errors."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from dotenv import dotenv_values
from huey import SqliteHuey
from sqlalchemy import create_engine, func, select

from core.models import Customer, Router
from core.testing import free_port
from core.usecases.network import list_routers
from jobs.queue import QUEUE_NAME


def _count_customers(workdir: Path) -> int:
    engine = create_engine(f"sqlite:///{workdir}/mteja.db")
    with engine.connect() as connection:
        count = connection.scalar(select(func.count(Customer.id)))
    engine.dispose()
    return int(count or 0)


def test_init_creates_a_key_once_and_migrates(mteja, workdir):
    first = mteja("init")
    assert first.exit_code == 0
    key = dotenv_values(workdir / ".env")["MTEJA_SECRET_KEY"]
    assert key
    second = mteja("init")
    assert second.exit_code == 0
    assert dotenv_values(workdir / ".env")["MTEJA_SECRET_KEY"] == key
    assert (workdir / "mteja.db").exists()


def test_commands_before_init_say_what_to_do(mteja, workdir):
    (workdir / ".env").write_text("MTEJA_SECRET_KEY=" + "x" * 43 + "=\n")
    result = mteja("plan", "list")
    assert result.exit_code == 1
    assert "mteja init" in result.stderr


def test_router_password_is_stored_encrypted(ready, workdir):
    engine = create_engine(f"sqlite:///{workdir}/mteja.db")
    with engine.connect() as connection:
        stored = connection.scalar(select(Router.password_encrypted))
    engine.dispose()
    assert stored and stored != "pw" and stored.startswith("gAAAA")
    listing = ready("router", "list")
    assert "core-1" in listing.output and "10.10.0.0/24" in listing.output


def test_add_customer_prints_account_number_then_show_by_any_reference(ready):
    added = ready(
        "customer",
        "add",
        "--name",
        "Wanjiru Kamau",
        "--phone",
        "0712 345 678",
        "--plan",
        "Home 10M",
        "--router",
        "core-1",
        "--paid",
        "mpesa",
        "--reference",
        "SKA1B2C3D4",
    )
    assert added.exit_code == 0, added.stderr
    account = added.output.splitlines()[0].strip()
    assert account.startswith("MTJ-") and len(account) == 11
    for reference in (
        account,
        account.lower().replace("-", " "),
        "+254712345678",
        "254712345678",
        "wanjiru.kamau",
        "10.10.0.2",
    ):
        shown = ready("customer", "show", reference)
        assert shown.exit_code == 0, (reference, shown.stderr)
        assert "Wanjiru Kamau" in shown.output and "ACTIVE" in shown.output


def test_add_customer_queues_the_router_sync_welcome_sms_and_receipt_for_the_workers(
    ready, workdir
):
    # Nothing a new customer needs may wait for the minute sweep or be lost: the router sync,
    # the expiry at the second, the welcome SMS and the receipt of the first payment.
    added = ready(
        "customer", "add", "--name", "Wanjiru Kamau", "--phone", "0712345678",
        "--plan", "Home 10M", "--router", "core-1", "--paid", "cash",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    queue = SqliteHuey(QUEUE_NAME, filename=str(workdir / "mteja-queue.db"), utc=True)
    # Read the raw messages: this process has not registered the tasks (a worker would).
    raw = [*queue.storage.enqueued_items(), *queue.storage.scheduled_items()]
    names = sorted(queue.serializer.deserialize(item).name.rsplit(".", 1)[-1] for item in raw)
    assert names == [
        "expire_due",
        "payment_notices",
        "send_sms",
        "sync_router",
    ]


def test_show_json_has_the_documented_fields(ready):
    added = ready(
        "customer",
        "add",
        "--name",
        "Otieno Ochieng",
        "--phone",
        "0722000111",
        "--plan",
        "Home 10M",
        "--router",
        "core-1",
        "--paid",
        "cash",
        "--amount",
        "2000",
    )
    account = added.output.splitlines()[0].strip()
    shown = ready("customer", "show", account, "--json")
    assert shown.exit_code == 0
    card = json.loads(shown.output)
    for key in (
        "account_number",
        "full_name",
        "phone",
        "username",
        "connection_type",
        "plan",
        "router",
        "ip_address",
        "status",
        "expires_at",
        "balance_kes",
    ):
        assert key in card
    assert card["account_number"] == account
    assert card["phone"] == "+254722000111"
    assert card["status"] == "active"
    assert card["balance_kes"] == 500
    assert card["expires_at"].endswith("Z")
    assert "password" not in json.dumps(card).lower().replace("password_set", "")


def test_unknown_customer_exits_non_zero_with_a_clear_message(ready):
    result = ready("customer", "show", "MTJ-0000000")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_wrong_check_character_is_reported_not_matched(ready):
    added = ready(
        "customer",
        "add",
        "--name",
        "A B",
        "--phone",
        "0733000222",
        "--plan",
        "Home 10M",
        "--router",
        "core-1",
    )
    account = added.output.splitlines()[0].strip()
    last = account[-1]
    typo = account[:-1] + ("2" if last != "2" else "3")
    result = ready("customer", "show", typo)
    assert result.exit_code == 1
    assert "typing mistake" in result.stderr


def test_bad_arguments_write_nothing(ready, workdir):
    cases = [
        (["--phone", "12345"], "not"),
        (["--plan", "Nope"], "plan not found"),
        (["--plan", "Daily"], "plan is for hotspot, customer is pppoe"),
        (["--ip", "10.10.0.1"], "router's own address"),
        (["--paid", "bitcoin"], "payment method"),
    ]
    for overrides, message in cases:
        args = {
            "--name": "X Y",
            "--phone": "0744000333",
            "--plan": "Home 10M",
            "--router": "core-1",
            "--type": "pppoe",
        }
        extra: list[str] = []
        for flag, value in zip(overrides[::2], overrides[1::2], strict=True):
            if flag in args:
                args[flag] = value
            else:
                extra += [flag, value]
        argv = [item for pair in args.items() for item in pair] + extra
        result = ready("customer", "add", *argv)
        assert result.exit_code == 1, (overrides, result.output)
        assert message in result.stderr, (overrides, result.stderr)
    assert _count_customers(workdir) == 0


def test_static_customer_gets_a_pool_address_and_duplicates_are_refused(ready):
    first = ready(
        "customer",
        "add",
        "--name",
        "Biz One",
        "--phone",
        "0755000111",
        "--plan",
        "Biz",
        "--router",
        "core-1",
        "--ip",
        "10.10.0.50",
    )
    assert first.exit_code == 0, first.stderr
    clash = ready(
        "customer",
        "add",
        "--name",
        "Biz Two",
        "--phone",
        "0755000222",
        "--plan",
        "Biz",
        "--router",
        "core-1",
        "--ip",
        "10.10.0.50",
    )
    assert clash.exit_code == 1 and "already given" in clash.stderr
    username = ready(
        "customer",
        "add",
        "--name",
        "Biz Three",
        "--phone",
        "0755000333",
        "--plan",
        "Biz",
        "--router",
        "core-1",
        "--username",
        "biz.one",
    )
    assert username.exit_code == 1 and "username already exists" in username.stderr


def test_find_lists_matches(ready):
    for name, phone in (("Mary Wanjiku", "0711111111"), ("Mary Atieno", "0722222222")):
        ready(
            "customer",
            "add",
            "--name",
            name,
            "--phone",
            phone,
            "--plan",
            "Home 10M",
            "--router",
            "core-1",
        )
    found = ready("customer", "find", "mary")
    assert found.exit_code == 0
    assert "Mary Wanjiku" in found.output and "Mary Atieno" in found.output
    none = ready("customer", "find", "zzz")
    # An empty result is an answer, not an error.
    assert (none.exit_code, none.stdout, none.stderr) == (0, "no customers match 'zzz'\n", "")


def test_plan_validation_errors(ready):
    both = ready(
        "plan",
        "add",
        "X",
        "--type",
        "pppoe",
        "--price",
        "10",
        "--download",
        "1M",
        "--upload",
        "1M",
        "--days",
        "1",
        "--hours",
        "2",
    )
    assert both.exit_code == 1 and "one of them" in both.stderr
    hours = ready(
        "plan",
        "add",
        "Y",
        "--type",
        "pppoe",
        "--price",
        "10",
        "--download",
        "1M",
        "--upload",
        "1M",
        "--hours",
        "2",
    )
    assert hours.exit_code == 1 and "hotspot" in hours.stderr
    speed = ready(
        "plan",
        "add",
        "Z",
        "--type",
        "pppoe",
        "--price",
        "10",
        "--download",
        "fast",
        "--upload",
        "1M",
        "--days",
        "2",
    )
    assert speed.exit_code == 1 and "speed" in speed.stderr
    listing = ready("plan", "list")
    assert "Home 10M" in listing.output and "X" not in listing.output.split()


def test_negative_money_says_what_is_wrong(ready):
    price = ready(
        "plan", "add", "Q", "--type", "pppoe", "--price", "-500", "--download", "1M",
        "--upload", "1M", "--days", "2",
    )  # fmt: skip
    assert price.exit_code == 1
    assert price.stderr.strip() == "error: the price cannot be negative, not -500"
    fee = ready(
        "customer", "add", "--name", "Mary Wanjiku", "--phone", "0711111111", "--plan",
        "Home 10M", "--router", "core-1", "--installation-fee", "-10",
    )  # fmt: skip
    assert fee.exit_code == 1
    assert fee.stderr.strip() == "error: the installation fee cannot be negative, not -10"


def test_staff_add_and_list(ready):
    assert ready("staff", "add", "1001", "Asha", "--role", "owner").exit_code == 0
    assert ready("staff", "add", "1002", "Brian", "--role", "agent").exit_code == 0
    bad = ready("staff", "add", "1003", "Carol", "--role", "boss")
    assert bad.exit_code == 1 and "role must be one of" in bad.stderr
    listing = ready("staff", "list")
    assert "Asha" in listing.output and "agent" in listing.output


def test_bad_setting_is_one_line(mteja, monkeypatch):
    monkeypatch.setenv("MTEJA_TIMEZONE", "Mars/Olympus")
    result = mteja("init")
    assert result.exit_code == 1
    assert "MTEJA_TIMEZONE" in result.stderr


def test_demo_seeds_once_and_shows_a_card(mteja, workdir):
    first = mteja("demo", "--no-serve")
    assert first.exit_code == 0, first.stderr
    assert "Customer card:" in first.output and "Plans" in first.output
    count = _count_customers(workdir)
    assert count >= 20
    second = mteja("demo", "--no-serve")
    assert second.exit_code == 0
    assert "already present" in second.output
    assert _count_customers(workdir) == count
    statuses = json.loads(mteja("customer", "show", "0712345678", "--json").output)["status"]
    assert statuses == "active"


def _listening_socket() -> socket.socket:
    """A port something else holds, as a busy 8099 would be."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    return holder


@pytest.mark.parametrize(
    "flag",
    [
        "--port",
        "--daraja-port",
        "--africastalking-port",
        "--nairobi-router-port",
        "--mombasa-router-port",
    ],
)
def test_demo_on_a_busy_port_names_it_and_its_flag_and_starts_nothing(mteja, workdir, flag):
    with _listening_socket() as holder:
        busy = holder.getsockname()[1]
        result = mteja("demo", flag, str(busy))
    assert result.exit_code == 1
    assert f"port {busy}" in result.stderr and flag in result.stderr, result.stderr
    assert not (workdir / ".env").exists() and not (workdir / "mteja.db").exists()


def test_demo_refuses_one_port_for_two_servers(mteja, workdir):
    result = mteja("demo", "--daraja-port", "18099", "--africastalking-port", "18099")
    assert result.exit_code == 1
    assert "--daraja-port and --africastalking-port" in result.stderr, result.stderr


def test_commands_beside_a_serving_demo_print_its_addresses(mteja, workdir, monkeypatch):
    served: list[tuple[int, int]] = []

    def serve_demo(system, out, ports):  # what the demo would serve, without serving it
        with system.services.unit_of_work() as uow:
            served.extend(sorted((router.api_port, ports.web) for router in list_routers(uow)))

    monkeypatch.setattr("mteja.demo.serve_demo", serve_demo)
    web, nairobi, mombasa = free_port(), free_port(), free_port()
    flags = ["--nairobi-router-port", str(nairobi), "--mombasa-router-port", str(mombasa)]
    assert mteja("demo", "--port", str(web), *flags).exit_code == 0
    assert sorted(served) == sorted([(nairobi, web), (mombasa, web)])

    urls = mteja("africastalking", "urls")
    assert urls.exit_code == 0, urls.stderr
    token = dotenv_values(workdir / ".env")["MTEJA_AT_CALLBACK_TOKEN"]
    assert f"http://127.0.0.1:{web}/ussd/{token}" in urls.output

    # Run again on other ports: the seeded routers follow the flags, the URL moves.
    served.clear()
    other = free_port()
    assert (
        mteja("demo", "--port", str(other), "--nairobi-router-port", str(other + 1)).exit_code == 0
    )
    assert (other + 1, other) in served
    assert f"http://127.0.0.1:{other}/ussd/" in mteja("africastalking", "urls").output
