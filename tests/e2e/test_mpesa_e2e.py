"""End to end, as the Procfile runs mteja: the router simulator, the fake Daraja, `mteja web` and
`mteja worker` as separate processes on one SQLite database and one SqliteHuey queue. Two
expired customers pay, one by STK push (`mteja customer stk`) and one by paybill, and each is back
online on the simulated router.

This process only does what staff and the clock would: set up the ISP and two customers through
core on the same database, move their paid time into the past and run core's expiry sweep, and
read the router over its API. Everything after that is the running processes' work.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import librouteros
import pytest
from librouteros.login import plain
from sqlalchemy import update

from core import ledger
from core.actors import Actor
from core.models import Customer, Subscription
from core.settings import Settings
from core.testing import free_port
from core.usecases.customers import NewCustomer, create_customer
from core.usecases.network import RouterSpec, add_router
from core.usecases.plans import PlanSpec, add_plan
from jobs.tasks import expire_all_due
from mteja.bootstrap import build_system
from mteja.queueing import build_queue
from sim.daraja.server import SANDBOX_PASSKEY, SANDBOX_SHORTCODE

WAIT_SECONDS = 60.0
ROUTER_USER = "admin"
ROUTER_PASSWORD = "sim-pw-e2e"
STAFF = Actor.cli()


def _poll(condition: Callable[[], Any], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except (OSError, httpx.TransportError, librouteros.exceptions.LibRouterosError):
            pass
        time.sleep(0.25)
    return False


@dataclass
class Deployment:
    directory: Path
    env: dict[str, str]
    router_port: int
    daraja_url: str
    web_url: str
    logs: dict[str, Path]

    def mteja(self, *args: str) -> str:
        """Run one `mteja` command to completion; its stdout."""
        done = subprocess.run(
            [sys.executable, "-m", "mteja.cli", *args],
            cwd=self.directory,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, f"mteja {' '.join(args)}: {done.stdout}{done.stderr}"
        return done.stdout

    def settings(self) -> Settings:
        """The settings every process reads (environment plus the .env `mteja init` wrote)."""
        values = {
            key.removeprefix("MTEJA_").lower(): value
            for key, value in self.env.items()
            if key.startswith("MTEJA_")
        }
        return Settings(_env_file=str(self.directory / ".env"), **values)  # type: ignore[call-arg]

    def secrets(self) -> dict[str, bool]:
        """PPP secret name → disabled, as the router's API reports them."""
        api = librouteros.connect(
            "127.0.0.1",
            ROUTER_USER,
            ROUTER_PASSWORD,
            port=self.router_port,
            login_method=plain,
            timeout=5,
        )
        try:
            return {
                str(row["name"]): _flag(row.get("disabled"))
                for row in api.path("/ppp/secret").select("name", "disabled")
            }
        finally:
            api.close()

    def wait_for(self, condition: Callable[[], Any], what: str) -> None:
        """Poll ``condition`` for up to a minute; on timeout, fail showing every process's log."""
        if not _poll(condition, WAIT_SECONDS):
            raise AssertionError(
                f"timed out after {WAIT_SECONDS:.0f} s waiting for {what}\n{self.log_tail()}"
            )

    def log_tail(self) -> str:
        return "\n".join(
            f"--- {name} ---\n{path.read_text(errors='replace')[-3000:]}"
            for name, path in self.logs.items()
            if path.exists()
        )


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "yes")


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    router_port, daraja_port, web_port = free_port(), free_port(), free_port()
    daraja_url = f"http://127.0.0.1:{daraja_port}"
    web_url = f"http://127.0.0.1:{web_port}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("MTEJA_")}
    env.update(
        MTEJA_DATABASE_URL=f"sqlite:///{tmp_path / 'mteja.db'}",
        MTEJA_HUEY_PATH=str(tmp_path / "mteja-queue.db"),
        MTEJA_LOCK_DIR=str(tmp_path / "locks"),
        MTEJA_MPESA_BASE_URL=daraja_url,
        MTEJA_MPESA_CONSUMER_KEY="fake-consumer-key",
        MTEJA_MPESA_CONSUMER_SECRET="fake-consumer-secret",
        MTEJA_MPESA_SHORTCODE=SANDBOX_SHORTCODE,
        MTEJA_MPESA_PASSKEY=SANDBOX_PASSKEY,
        MTEJA_PUBLIC_URL=web_url,
        MTEJA_MPESA_ALLOWED_IPS="127.0.0.1",
        PYTHONUNBUFFERED="1",
    )
    logs: dict[str, Path] = {}
    deployed = Deployment(tmp_path, env, router_port, daraja_url, web_url, logs)
    deployed.mteja("init")
    roles = {
        "router": [
            "simulate-router",
            "--port",
            str(router_port),
            "--username",
            ROUTER_USER,
            "--password",
            ROUTER_PASSWORD,
        ],
        "daraja": ["fake-daraja", "--port", str(daraja_port), "--delay", "1"],
        "web": ["web", "--port", str(web_port)],
        "worker": ["worker", "--workers", "2"],
    }
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for name, args in roles.items():
            logs[name] = tmp_path / f"{name}.log"
            with logs[name].open("wb") as log:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "mteja.cli", *args],
                        cwd=tmp_path,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        deployed.wait_for(lambda: deployed.secrets() == {}, "the router simulator")
        deployed.wait_for(
            lambda: httpx.get(f"{daraja_url}/_fake/state", timeout=2).is_success, "fake Daraja"
        )
        deployed.wait_for(
            lambda: httpx.get(f"{web_url}/healthz", timeout=2).is_success, "mteja web"
        )
        yield deployed
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def _expired_customers(deployed: Deployment, usernames: dict[str, str]) -> dict[str, str]:
    """What staff and the clock would do, in core against the deployment's database with the
    queue wired as in `mteja web`: register the simulator and a plan, add customers who paid cash
    for a month (username → phone), let that month pass and run the expiry sweep. The worker
    gets the router syncs. Returns username → account number."""
    system = build_system(deployed.settings())
    try:
        build_queue(system)
        services = system.services
        with services.unit_of_work() as uow:
            spec = RouterSpec(
                "sim",
                "127.0.0.1",
                deployed.router_port,
                ROUTER_USER,
                ROUTER_PASSWORD,
                plain_api=True,
            )
            add_router(uow, STAFF, spec)
            add_plan(uow, STAFF, PlanSpec("Home 10M", "pppoe", 1500, "10M", "5M", validity_days=30))
            uow.commit()
        accounts = {}
        for username, phone in usernames.items():
            form = NewCustomer(
                full_name=username.replace(".", " ").title(),
                phone=phone,
                connection_type="pppoe",
                plan="Home 10M",
                router="sim",
                username=username,
                password=f"pw-{username}",
                payment_method="cash",
            )
            with services.unit_of_work() as uow:
                accounts[username] = create_customer(uow, STAFF, form).customer.account_number
                uow.commit()
        past = datetime.now(UTC) - timedelta(minutes=5)
        with services.unit_of_work() as uow:
            uow.session.execute(update(Customer).values(expires_at=past))
            uow.session.execute(
                update(Subscription).values(starts_at=past - timedelta(days=30), ends_at=past)
            )
            uow.commit()
        assert expire_all_due(services) == len(usernames)
        return accounts
    finally:
        system.close()


def _balance(deployed: Deployment, account: str) -> tuple[str, int]:
    system = build_system(deployed.settings())
    try:
        with system.services.unit_of_work() as uow:
            customer = uow.session.query(Customer).filter_by(account_number=account).one()
            return customer.status, ledger.balance_kes(uow, customer.id)
    finally:
        system.close()


def test_expired_customers_pay_by_stk_and_by_paybill_and_are_back_online(
    deployment: Deployment,
) -> None:
    mteja = deployment.mteja
    accounts = _expired_customers(
        deployment, {"amina.stk": "0712345678", "baraka.paybill": "0722345678"}
    )
    both_disabled = {"amina.stk": True, "baraka.paybill": True}
    deployment.wait_for(
        lambda: deployment.secrets() == both_disabled, "both secrets disabled on the router"
    )

    # Amina pays by STK push: the worker sends it, the fake Daraja calls back, the web app
    # credits her, and the worker enables her secret.
    printed = mteja("customer", "stk", accounts["amina.stk"])
    assert "STK push of KES 1,500 to +254712345678 queued" in printed
    deployment.wait_for(
        lambda: deployment.secrets() == {"amina.stk": False, "baraka.paybill": True},
        "Amina's secret enabled after her STK payment",
    )
    assert _balance(deployment, accounts["amina.stk"]) == ("active", 0)

    # Baraka pays by paybill, typing his account number in lower case.
    assert "registered with Safaricom" in mteja("mpesa", "register-urls")
    paid = httpx.post(
        f"{deployment.daraja_url}/_fake/paybill",
        json={"account": accounts["baraka.paybill"].lower(), "amount_kes": 1500},
        timeout=30,
    )
    assert paid.status_code == 200 and paid.json()["accepted"] is True, paid.text
    deployment.wait_for(
        lambda: deployment.secrets() == {"amina.stk": False, "baraka.paybill": False},
        "Baraka's secret enabled after his paybill payment",
    )
    # Safaricom retries the confirmation: he is not credited twice.
    again = httpx.post(
        f"{deployment.daraja_url}/_fake/redeliver",
        json={"trans_id": paid.json()["trans_id"]},
        timeout=30,
    )
    assert again.json() == {"status_code": 200}
    assert _balance(deployment, accounts["baraka.paybill"]) == ("active", 0)
    state = httpx.get(f"{deployment.daraja_url}/_fake/state", timeout=5).json()
    [checkout] = state["checkouts"].values()
    assert (checkout["result_code"], checkout["amount_kes"]) == (0, 1500)
