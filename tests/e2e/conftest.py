"""End-to-end tests start real processes and servers: every one is ``slow``.

The staff console's browser tests get ``console_site`` (the web app served by uvicorn over a
migrated, seeded SQLite file) and ``open_tab`` (a Chromium page that screenshots and watches its
console)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright

from core.actors import Actor
from core.clock import SystemClock
from core.db import make_engine, upgrade_to_head
from core.lookup import by_account_number
from core.testing import free_port, services_for
from core.unit_of_work import CoreServices
from core.usecases.customers import NewCustomer, create_customer
from core.usecases.network import RouterSpec, add_pool, add_router
from core.usecases.plans import PlanSpec, add_plan
from core.usecases.staff import add_staff
from core.usecases.staff_access import issue_login_link
from sim.routeros import SimulatedRouter
from sim.serving import BackgroundServer
from tests.conftest import IN_CI
from web.app import WebConfig, create_app
from web.console import ConsoleConfig

E2E = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if E2E in Path(item.path).parents:
            item.add_marker(pytest.mark.slow)


# -- The staff console in a real browser --------------------------------------------------------
# Debian's Chromium driven by Playwright (never a downloaded browser). Without it the browser
# tests skip, except in CI (CI=true), where they fail: CI installs it (.ci/run).

CHROMIUM = Path("/usr/bin/chromium")
# Every screenshot is also copied here (git-ignored), to look at after a run.
SCREENSHOT_COPIES = E2E / "output" / "console"
PUBLIC_URL_HOST = "127.0.0.1"

STAFF = {"owner": (2001, "Amina Owner"), "viewer": (2004, "Dedan Viewer")}


@dataclass(frozen=True)
class ConsoleSite:
    """The real web app served by uvicorn over a migrated SQLite file, seeded through core."""

    base_url: str
    services: CoreServices
    paid: str  # an active PPPoE customer's account number
    unpaid: str  # a PPPoE customer who never paid

    def login_link(self, role: str) -> str:
        """A fresh one-time login link (full URL) for the seeded staff member of ``role``."""
        with self.services.unit_of_work() as uow:
            link = issue_login_link(uow, Actor.cli(), str(STAFF[role][0]))
            uow.commit()
        return f"{self.base_url}/staff/login/link/{link.token}"

    def customer(self, account: str) -> tuple[str, str | None]:
        """A customer's status and IP address, as the database has them now."""
        with self.services.unit_of_work(read_only=True) as uow:
            customer = by_account_number(uow, account)
            assert customer is not None, account
            return customer.status, customer.ip_address


def _seed(services: CoreServices, router_port: int) -> tuple[str, str]:
    cli = Actor.cli()
    with services.unit_of_work() as uow:
        for telegram_id, name in STAFF.values():
            role = "owner" if telegram_id == STAFF["owner"][0] else "viewer"
            add_staff(uow, cli, telegram_id, name, role)
        add_router(
            uow, cli, RouterSpec("core-1", "127.0.0.1", router_port, "admin", "sim", plain_api=True)
        )
        add_pool(uow, cli, "core-1", "10.10.0.0/24")
        add_plan(uow, cli, PlanSpec("Home 10M", "pppoe", 1500, "10M", "5M", validity_days=30))
        add_plan(uow, cli, PlanSpec("Home 20M", "pppoe", 2500, "20M", "10M", validity_days=30))
        add_plan(uow, cli, PlanSpec("Daily 5M", "hotspot", 50, "5M", "2M", validity_hours=24))
        uow.commit()
    accounts = []
    for name, phone, method in (
        ("Wanjiku Kamau", "0712345678", "cash"),
        ("Otieno Odhiambo", "0722000111", None),
        ("Achieng Atieno", "0733000222", "mpesa"),
    ):
        with services.unit_of_work() as uow:
            created = create_customer(
                uow,
                cli,
                NewCustomer(
                    full_name=name,
                    phone=phone,
                    connection_type="pppoe",
                    plan="Home 10M",
                    router="core-1",
                    payment_method=method,
                    payment_reference="SKD001TEST" if method == "mpesa" else None,
                    activate=method is not None,
                    send_welcome=False,
                ),
            )
            uow.commit()
            accounts.append(created.customer.account_number)
    return accounts[0], accounts[1]


@pytest.fixture
def console_site(tmp_path: Path) -> Iterator[ConsoleSite]:
    """The web app with its console on a free port, over a SQLite file migrated to head (as
    ``mteja init`` does), with a simulated RouterOS router behind the seeded router."""
    url = f"sqlite:///{tmp_path}/mteja.db"
    upgrade_to_head(url)
    engine = make_engine(url)
    services = services_for(engine, clock=SystemClock())
    port = free_port()
    base_url = f"http://{PUBLIC_URL_HOST}:{port}"
    app = create_app(services, WebConfig(console=ConsoleConfig(public_url=base_url)))
    with SimulatedRouter(username="admin", password="sim", identity="core-1") as router:
        paid, unpaid = _seed(services, router.port)
        with BackgroundServer(app, host=PUBLIC_URL_HOST, port=port):
            yield ConsoleSite(base_url, services, paid, unpaid)
    engine.dispose()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium under Playwright, shared by the browser tests of a module. Not of the
    whole run: Playwright's sync API keeps an event loop running in the main thread until it
    stops, and every later test that calls asyncio.run() there would fail."""
    if not CHROMIUM.exists():
        reason = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(f"{reason}: CI must run the browser tests")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


class BrowserTab:
    """A page in its own browser context (its own cookies) that saves a full-page screenshot
    of each page it is asked to, and collects what the browser console reports as an error
    (a Content-Security-Policy violation, a script error)."""

    def __init__(self, page: Page, folder: Path, test_name: str) -> None:
        self.page = page
        self.folder = folder
        self.test_name = test_name
        self.errors: list[str] = []
        self.shots = 0
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"{message.text} ({message.location.get('url', '')})")

    def shot(self, label: str) -> Path:
        """Screenshot the whole page under ``folder`` and a copy under SCREENSHOT_COPIES."""
        self.shots += 1
        name = f"{self.test_name}-{self.shots:02d}-{label}.png"
        target = self.folder / name
        self.page.screenshot(path=str(target), full_page=True)
        SCREENSHOT_COPIES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target, SCREENSHOT_COPIES / name)
        return target

    def problems(self, *, allowed_statuses: tuple[int, ...] = ()) -> list[str]:
        """The console's errors, less the "Failed to load resource" of answers a test expects
        (a spent login link's 410) and of the favicon the browser asks for on its own (the
        console has none)."""
        expected = tuple(f"status of {status}" for status in allowed_statuses)

        def expected_failure(error: str) -> bool:
            if not error.startswith("Failed to load resource"):
                return False
            return "/favicon.ico)" in error or any(status in error for status in expected)

        return [error for error in self.errors if not expected_failure(error)]


@pytest.fixture
def open_tab(
    chromium: Browser, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[[], BrowserTab]]:
    """``open_tab()``: a new browser context and page (a fresh set of cookies each call)."""
    folder = tmp_path / "screenshots"
    folder.mkdir(exist_ok=True)
    contexts: list[BrowserContext] = []
    test_name = re.sub(r"[^\w-]+", "_", request.node.name)[:60]

    def new_tab() -> BrowserTab:
        context = chromium.new_context(
            accept_downloads=True, viewport={"width": 1280, "height": 900}
        )
        contexts.append(context)
        tab = BrowserTab(context.new_page(), folder, f"{test_name}-{len(contexts)}")
        tab.page.set_default_timeout(15_000)
        return tab

    yield new_tab
    for context in contexts:
        context.close()
