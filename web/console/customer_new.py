"""Add Customer, step by step, like the bot's /add: connection type → details → plan, router and
address → first payment → review and create.

No state is kept on the server: every page carries the earlier answers in hidden fields, each
step is checked by core (``check_new_customer``) and a mistake re-renders the page it belongs to,
and the final POST checks everything again in ``create_customer``, which makes the customer in
one transaction. The free-address search is a GET fragment htmx asks for as staff type a prefix;
without JavaScript the "Search" button re-renders the step with the results.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from core.actors import Permission
from core.errors import DomainError, InvalidInput, PermissionDenied
from core.ledger import parse_amount, parse_fee
from core.pools import PoolLine, free_addresses_of_pool, pool_lines
from core.unit_of_work import UnitOfWork
from core.usecases.customer_form import FormPart, check_new_customer
from core.usecases.customers import NewCustomer, create_customer
from core.usecases.network import FreeAddresses, list_routers
from core.usecases.plans import list_plans
from core.vocabulary import ConnectionType, PaymentMethod
from web.console.framework import Console, View, as_sentence

# Every answer of the form, in the order the pages ask for them.
FIELDS = (
    "connection_type",
    "full_name",
    "phone",
    "email",
    "physical_address",
    "account_number2",
    "plan",
    "router",
    "pool",
    "ip_prefix",
    "ip_address",
    "payment_method",
    "amount_kes",
    "payment_reference",
    "installation_fee_kes",
    "first_price_kes",
    "activate",
    "send_welcome",
)
# The fields each page shows itself (the others travel in hidden inputs).
PAGE_FIELDS = {
    "type": ("connection_type",),
    "details": ("full_name", "phone", "email", "physical_address", "account_number2"),
    "service": ("plan", "router", "pool", "ip_prefix", "ip_address"),
    "payment": (
        "payment_method",
        "amount_kes",
        "payment_reference",
        "installation_fee_kes",
        "first_price_kes",
        "activate",
        "send_welcome",
    ),
    "review": (),
}
PAGES = tuple(PAGE_FIELDS)
# The part of the form a page's answers are, and the page that follows it.
_PART_OF = {
    "type": FormPart.TYPE,
    "details": FormPart.DETAILS,
    "service": FormPart.SERVICE,
    "payment": FormPart.PAYMENT,
}
_PAGE_OF = {part: page for page, part in _PART_OF.items()}
_NEXT = {"type": "details", "details": "service", "service": "payment", "payment": "review"}
_TITLES = {
    "type": "Connection type",
    "details": "Details",
    "service": "Plan and address",
    "payment": "First payment",
    "review": "Review",
}
TYPE_LABELS = {
    ConnectionType.PPPOE.value: "PPPoE",
    ConnectionType.HOTSPOT.value: "Hotspot",
    ConnectionType.STATIC.value: "Static IP",
}
METHOD_LABELS = {
    PaymentMethod.CASH.value: "Cash",
    PaymentMethod.MPESA.value: "M-Pesa",
    PaymentMethod.BANK.value: "Bank",
    PaymentMethod.CHEQUE.value: "Cheque",
}
FREE_LISTED = 20
_YES = "yes"
_NO = "no"


def new_customer_form(view: View) -> Response:
    """The first step: the connection type."""
    return _page(view, {name: "" for name in FIELDS}, "type")


def new_customer_step(view: View) -> Response:
    """One step's answers: check them, then show the next step (or the same one, with the
    problem); the last step creates the customer."""
    step = view.field("step")
    answers = _answers(view, step)
    if step == "search":
        return _page(view, answers, "service", searching=True)
    if step.startswith("back:") and step[5:] in PAGES:
        return _page(view, answers, step[5:])
    if step not in _NEXT and step != "create":
        return _page(view, answers, "type", problem="Unknown step: start again.", status=400)
    parts = list(FormPart)
    if step != "create":
        parts = parts[: parts.index(_PART_OF[step]) + 1]
    refused = _first_problem(view, answers, parts)
    if refused is not None:
        part, message = refused
        return _page(view, answers, _PAGE_OF[part], problem=message, status=400)
    if step != "create":
        return _page(view, answers, _NEXT[step])
    return _create(view, answers)


def _first_problem(
    view: View, answers: dict[str, str], parts: list[FormPart]
) -> tuple[FormPart, str] | None:
    """The first part core refuses, with its message (None: all are good)."""
    with view.uow(read_only=True) as uow:
        for part in parts:
            try:
                check_new_customer(uow, view.actor, _form(answers, part), part)
            except PermissionDenied:
                raise
            except DomainError as problem:
                return part, as_sentence(problem.message)
    return None


def _create(view: View, answers: dict[str, str]) -> Response:
    if not view.spend_once():
        return view.redirect(
            "/staff/customers", flash="That form was already sent: no second customer was added."
        )
    try:
        with view.uow() as uow:
            created = create_customer(uow, view.actor, _form(answers, FormPart.PAYMENT))
            uow.commit()
            account = created.customer.account_number
            username = created.customer.username
    except PermissionDenied:
        raise
    except DomainError as problem:
        return _page(
            view,
            answers,
            "review",
            problem=f"Not added: {as_sentence(problem.message)}",
            status=400,
        )
    return view.redirect(
        f"/staff/customers/{account}",
        # The password stays out of the flash (a cookie): the details tab reveals it.
        flash=f"Customer {account} added, login {username}. Its password: Details → Reveal.",
    )


def _answers(view: View, step: str) -> dict[str, str]:
    answers = {name: view.field(name).strip() for name in FIELDS}
    # Checkboxes send nothing when unticked: on the payment page that means no; on the pages
    # before it (nothing asked yet) the default, yes.
    from_payment_page = step in ("payment", "back:service")
    for name in ("activate", "send_welcome"):
        if from_payment_page:
            answers[name] = _YES if view.flag(name) else _NO
        else:
            answers[name] = _NO if answers[name] == _NO else _YES
    return answers


def _form(answers: dict[str, str], part: FormPart) -> NewCustomer:
    """The answers as core's form; the amounts are read only from the payment part on (the
    pages before it have not asked for them)."""
    money = part is FormPart.PAYMENT
    amount = answers["amount_kes"] if money else ""
    fee = answers["installation_fee_kes"] if money else ""
    price = answers["first_price_kes"] if money else ""
    return NewCustomer(
        full_name=answers["full_name"],
        phone=answers["phone"],
        connection_type=answers["connection_type"],
        plan=answers["plan"],
        router=answers["router"],
        ip_address=answers["ip_address"] or None,
        email=answers["email"] or None,
        physical_address=answers["physical_address"] or None,
        account_number2=answers["account_number2"] or None,
        payment_method=(answers["payment_method"] or None) if money else None,
        amount_kes=parse_amount(amount, "the amount received") if amount else None,
        first_price_kes=parse_fee(price, "the first period's price") if price else None,
        payment_reference=answers["payment_reference"] or None,
        installation_fee_kes=parse_fee(fee) if fee else 0,
        activate=answers["activate"] != _NO,
        send_welcome=answers["send_welcome"] != _NO,
    )


def _page(
    view: View,
    answers: dict[str, str],
    page: str,
    *,
    problem: str | None = None,
    status: int = 200,
    searching: bool = False,
) -> Response:
    values: dict[str, Any] = {
        "answers": answers,
        "page": page,
        "pages": PAGES,
        "titles": _TITLES,
        "hidden": [(name, answers[name]) for name in FIELDS if name not in PAGE_FIELDS[page]],
        "problem": problem,
        "type_labels": TYPE_LABELS,
        "method_labels": METHOD_LABELS,
        "plans": [],
        "chosen_plan": None,
        "routers": [],
        "pools": [],
        "pool_id": None,
        "free": None,
        "search_problem": None,
        "hotspot": answers["connection_type"] == ConnectionType.HOTSPOT.value,
        "money": None,
    }
    if page == "review":
        try:
            values["money"] = _form(answers, FormPart.PAYMENT)
        except InvalidInput:
            # Only a forged review gets here; "Create customer" shows the payment step then.
            values["money"] = None
    # Rendered inside the unit of work: the plans are read while the page is written.
    with view.uow(read_only=True) as uow:
        if page in ("service", "review"):
            status = _service_values(view, uow, answers, values, searching) or status
        return view.render("customer_new.html", status_code=status, **values)


def _service_values(
    view: View, uow: UnitOfWork, answers: dict[str, str], values: dict[str, Any], searching: bool
) -> int | None:
    """The plans, routers, pools and free addresses the address step shows; 400 when the
    searched prefix is refused."""
    kind = answers["connection_type"]
    values["plans"] = list_plans(uow, kind) if kind in TYPE_LABELS else []
    values["routers"] = [router.name for router in list_routers(uow)]
    chosen = answers["plan"].lower()
    values["chosen_plan"] = next(
        (plan for plan in values["plans"] if plan.name.lower() == chosen), None
    )
    if values["page"] != "service" or values["hotspot"]:
        return None
    pools = pool_lines(uow)
    pool_id = _chosen_pool(answers, pools)
    values.update(pools=pools, pool_id=pool_id)
    if pool_id is None:
        return None
    try:
        values["free"] = free_addresses_of_pool(
            uow, view.actor, pool_id, prefix=answers["ip_prefix"] or None, limit=FREE_LISTED
        )
    except DomainError as trouble:
        values["search_problem"] = as_sentence(trouble.message)
        return 400 if searching else None
    return None


def _chosen_pool(answers: dict[str, str], pools: list[PoolLine]) -> int | None:
    """The pool to search: the one chosen, else the first of the chosen router, else the first."""
    wanted = answers["pool"]
    if wanted.isascii() and wanted.isdigit() and any(p.id == int(wanted) for p in pools):
        return int(wanted)
    router = answers["router"].lower()
    for pool in pools:
        if pool.router.lower() == router:
            return pool.id
    return pools[0].id if pools else None


def free_addresses(view: View) -> Response:
    """Free addresses of a pool within a prefix: a fragment for htmx, or a page of its own."""
    pool_id = int(view.request.path_params["pool_id"])
    prefix = (view.query("prefix") or view.query("ip_prefix")).strip()
    if len(prefix) > 64:
        raise InvalidInput("that prefix is too long")
    fragment = view.request.headers.get("hx-request") == "true"
    status = 200
    problem = None
    free: FreeAddresses | None = None
    with view.uow(read_only=True) as uow:
        try:
            free = free_addresses_of_pool(
                uow, view.actor, pool_id, prefix=prefix or None, limit=FREE_LISTED
            )
        except InvalidInput as trouble:
            problem, status = as_sentence(trouble.message), 400
    template = "pools/_free.html" if fragment else "pools/free.html"
    return view.render(
        template,
        status_code=status,
        free=free,
        problem=problem,
        prefix_text=prefix,
        pool_id=pool_id,
    )


def customer_new_routes(console: Console) -> list[Route]:
    return [
        Route(
            "/customers/new",
            console.page(new_customer_form, Permission.MANAGE_CUSTOMERS),
            methods=["GET"],
        ),
        Route(
            "/customers/new",
            console.action(new_customer_step, Permission.MANAGE_CUSTOMERS),
            methods=["POST"],
        ),
        Route("/pools/{pool_id:int}/free", console.page(free_addresses), methods=["GET"]),
    ]
