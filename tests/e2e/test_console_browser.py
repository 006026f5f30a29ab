"""The staff console in a real browser (Chromium): what a member of staff does at a desk.

Each test logs in by a one-time link and goes through the pages as a person would, by the
forms' field names and the buttons' texts; every page visited is screenshotted (``open_tab``)
and the browser console must report no Content-Security-Policy violation and no script error.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page

from core.customer_list import CSV_HEADER
from tests.e2e.conftest import STAFF, BrowserTab, ConsoleSite

pytestmark = pytest.mark.slow
OpenTab = Callable[[], BrowserTab]

ACCOUNT_PAGE = re.compile(r"/staff/customers/(MTJ-[0-9A-Z]+)(\?.*)?$")

# The Add Customer form's answers, by field name (the form asks them over several steps).
NEW_CUSTOMER = {
    "connection_type": "pppoe",
    "full_name": "Grace Wambui",
    "phone": "0733123456",
    "email": "grace@example.com",
    "physical_address": "Kasarani, house 12",
    "plan": "Home 20M",
    "router": "core-1",
    "pool": "10.10.0.0/24",
    "amount_kes": "2500",
    "payment_method": "cash",
}


def log_in(tab: BrowserTab, site: ConsoleSite, role: str) -> str:
    """Open a fresh one-time link, press "Log in as ...", land on the dashboard; the link."""
    link = site.login_link(role)
    answer = tab.page.goto(link)
    assert answer is not None and answer.status == 200
    name = STAFF[role][1]
    tab.shot(f"login-link-{role}")
    tab.page.get_by_role("button", name=f"Log in as {name}").click()
    tab.page.wait_for_url(f"{site.base_url}/staff/")
    assert tab.page.get_by_role("heading", name="Dashboard").is_visible()
    assert name in tab.page.locator("header").inner_text()
    tab.shot(f"dashboard-{role}")
    return link


def customer_page(account: str) -> re.Pattern[str]:
    """The URL of a customer's details tab (a query string allowed)."""
    return re.compile(rf"/staff/customers/{re.escape(account)}(\?.*)?$")


def _visible(page: Page, name: str) -> Locator | None:
    """The fields called ``name``, when one of them shows on this step."""
    fields = page.locator(f'[name="{name}"]')
    for index in range(fields.count()):
        if fields.nth(index).is_visible():
            return fields
    return None


def _tag(field: Locator) -> str:
    return str(field.evaluate("element => element.tagName.toLowerCase()"))


def _answer(fields: Locator, value: str, *, or_first: bool = False) -> None:
    """Answer a field as a person would: type, choose an option (by value, or by a label that
    contains ``value``; the first real option when ``or_first``), or pick a radio button."""
    first = fields.first
    kind = (first.get_attribute("type") or "").lower()
    if _tag(first) == "select":
        options = first.locator("option")
        values = [options.nth(i).get_attribute("value") or "" for i in range(options.count())]
        labels = [options.nth(i).inner_text() for i in range(options.count())]
        if value in values:
            first.select_option(value=value)
            return
        match = [i for i, label in enumerate(labels) if value.casefold() in label.casefold()]
        if not match and or_first:
            match = [i for i, option in enumerate(values) if option]
        assert match, f"no option {value!r} in {labels}"
        first.select_option(index=match[0])
    elif kind == "radio":
        fields.and_(fields.page.locator(f'[value="{value}"]')).check()
    elif kind == "checkbox":
        first.set_checked(value not in ("", "0", "off", "no"))
    else:
        first.fill(value)


def _free_addresses_shown(page: Page) -> list[str]:
    """Addresses of the pool the page lists (not the pool itself, nor its network address)."""
    listed = page.locator("datalist option")
    found = [listed.nth(i).get_attribute("value") or "" for i in range(listed.count())]
    found += re.findall(r"10\.10\.0\.\d+(?![\d/])", page.locator("main").inner_text())
    return [
        address for address in found if address.startswith("10.10.0.") and address != "10.10.0.0"
    ]


def _pick_free_address(page: Page) -> str:
    """After an IP search: choose the first free address the form offers (an option, a radio
    button, a button to press, or an address listed beside a text field)."""
    page.locator('[name="ip_address"]').first.wait_for(state="attached")
    first = page.locator('[name="ip_address"]').first
    kind = (first.get_attribute("type") or "").lower()
    if _tag(first) == "select":
        options = first.locator("option")
        values = [options.nth(i).get_attribute("value") or "" for i in range(options.count())]
        free = next(value for value in values if value.startswith("10.10.0."))
        first.select_option(value=free)
        return free
    offered = page.locator('[name="ip_address"][value^="10.10.0."]')
    if kind == "radio":
        offered.first.check()
        return offered.first.get_attribute("value") or ""
    if _tag(first) == "button":
        free = offered.first.get_attribute("value") or ""
        _press(page, offered.first)
        return free
    shown = _free_addresses_shown(page)
    assert shown, "the IP search listed no free address"
    first.fill(shown[0])
    return shown[0]


def _press(page: Page, button: Locator) -> None:
    """Press a button of a form: it posts, and the page it leads to loads (not an error)."""
    with page.expect_navigation() as navigation:
        button.click()
    answer = navigation.value
    assert answer is not None and answer.status < 400, page.locator("main").inner_text()


def add_customer_through_the_form(tab: BrowserTab, site: ConsoleSite) -> str:
    """Walk the Add Customer steps (Next, Search, Create customer); the new account number.
    The customer gets the address picked from the IP search."""
    page = tab.page
    answer = page.goto(f"{site.base_url}/staff/customers/new")
    assert answer is not None and answer.status == 200, "no Add Customer form"
    tab.shot("new-customer")
    searched = False
    chosen = ""
    for step in range(12):
        if ACCOUNT_PAGE.search(page.url):
            break
        for name, value in NEW_CUSTOMER.items():
            fields = _visible(page, name)
            if fields is not None:
                _answer(fields, value)
        for name, wanted in (("activate", True), ("send_welcome", False)):
            fields = _visible(page, name)
            if fields is not None and fields.first.get_attribute("type") == "checkbox":
                fields.first.set_checked(wanted)
        if not searched and _visible(page, "ip_prefix") is not None:
            page.locator('[name="ip_prefix"]').first.fill("10.10.0.")
            _press(page, page.locator('button[name="step"]', has_text="Search").first)
            tab.shot(f"new-customer-ip-search-{step}")
            searched = True
            chosen = _pick_free_address(page)
            tab.shot(f"new-customer-ip-{chosen}")
            continue  # the same step again: what the search page shows next
        steps = page.locator('button[name="step"]')
        create = steps.filter(has_text="Create customer")
        _press(page, create.first if create.count() else steps.filter(has_text="Next").first)
        tab.shot(f"new-customer-step-{step}")
    found = ACCOUNT_PAGE.search(page.url)
    assert found, f"the form did not land on the customer's page: {page.url}"
    assert searched, "the form never offered the IP search"
    assert "Grace Wambui" in page.locator("main").inner_text()
    assert site.customer(found.group(1)) == ("active", chosen)
    return found.group(1)


def _action_form(page: Page, action: str) -> Locator:
    """The form posting to ``.../action``, its ``<details class="action">`` opened if closed."""
    form = page.locator(f'form[action$="/{action}"]').first
    holder = page.locator("details.action", has=page.locator(f'form[action$="/{action}"]'))
    if holder.count() and holder.first.get_attribute("open") is None:
        holder.first.locator("summary").click()
    return form


def submit(form: Locator) -> None:
    """Press the form's submit button; the page it redirects to loads."""
    button = form.locator('button[type="submit"], button:not([type]), input[type="submit"]')
    _press(form.page, button.last)


def test_a_one_time_link_logs_in_once(console_site: ConsoleSite, open_tab: OpenTab) -> None:
    tab = open_tab()
    link = log_in(tab, console_site, "owner")
    assert tab.problems() == []

    # Someone else opening the same link later (a forwarded chat message) gets nowhere.
    stranger = open_tab()
    answer = stranger.page.goto(link)
    assert answer is not None and answer.status == 410
    assert "not valid" in stranger.page.locator("main").inner_text()
    assert stranger.page.get_by_role("button", name=re.compile("Log in as")).count() == 0
    stranger.shot("spent-link")
    # With no session, the console sends them to the login page.
    stranger.page.goto(f"{console_site.base_url}/staff/")
    assert stranger.page.url.startswith(f"{console_site.base_url}/staff/login")
    assert console_site.paid not in stranger.page.content()
    stranger.shot("login-page")
    assert stranger.problems(allowed_statuses=(410,)) == []


def test_the_owner_adds_a_customer_takes_a_payment_suspends_and_exports(
    console_site: ConsoleSite, open_tab: OpenTab
) -> None:
    tab = open_tab()
    page = tab.page
    log_in(tab, console_site, "owner")
    account = add_customer_through_the_form(tab, console_site)
    details = customer_page(account)
    tab.shot("customer-created")

    pay = _action_form(page, "pay")
    tab.shot("add-payment-open")
    pay.locator('[name="amount"]').fill("500")
    _answer(pay.locator('[name="method"]'), "cash")
    pay.locator('[name="reference"]').fill("RCPT-0042")
    activate = pay.locator('[name="activate"]')
    if activate.count() and activate.first.get_attribute("type") == "checkbox":
        activate.first.set_checked(True)
    submit(pay)
    page.wait_for_url(details)
    assert page.locator(".flash").is_visible()
    tab.shot("payment-recorded")

    suspend = _action_form(page, "suspend")
    _answer(suspend.locator('[name="reason"]'), "cable cut, asked to pause", or_first=True)
    submit(suspend)
    page.wait_for_url(details)
    assert console_site.customer(account)[0] == "suspended"
    tab.shot("suspended")

    submit(_action_form(page, "unsuspend"))
    page.wait_for_url(details)
    assert console_site.customer(account)[0] == "active"
    tab.shot("unsuspended")

    page.goto(f"{console_site.base_url}/staff/customers")
    tab.shot("customers")
    with page.expect_download() as download_info:
        page.locator('a[href$="/staff/customers.csv"]').first.click()
    saved = download_info.value.path()
    rows = list(csv.reader(io.StringIO(Path(saved).read_text(encoding="utf-8-sig"))))
    assert tuple(rows[0]) == CSV_HEADER
    new_row = next(row for row in rows[1:] if row[0] == account)
    assert new_row[1] == "Grace Wambui" and new_row[3] == "active"
    assert tab.problems() == []


def test_a_viewer_sees_no_action_buttons(console_site: ConsoleSite, open_tab: OpenTab) -> None:
    tab = open_tab()
    page = tab.page
    log_in(tab, console_site, "viewer")
    answer = page.goto(f"{console_site.base_url}/staff/customers/{console_site.paid}")
    assert answer is not None and answer.status == 200
    tab.shot("customer-as-viewer")
    assert "Wanjiku Kamau" in page.locator("main").inner_text()
    assert page.locator("details.action").count() == 0
    assert page.locator('main form[method="post"]').count() == 0
    page.goto(f"{console_site.base_url}/staff/customers")
    tab.shot("customers-as-viewer")
    assert page.locator('a[href$="/staff/customers/new"]').count() == 0
    assert tab.problems() == []
