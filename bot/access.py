"""Which staff command needs which permission, its usage line, and the help each role sees."""

from __future__ import annotations

from dataclasses import dataclass

from core.actors import Actor, Permission, can


@dataclass(frozen=True)
class CommandSpec:
    name: str
    usage: str
    summary: str
    permission: Permission


_SPECS = [
    CommandSpec(
        "find", "/find TEXT", "find customers by account, phone, name, login or IP", Permission.VIEW
    ),
    CommandSpec("c", "/c REF", "the customer card with its action buttons", Permission.VIEW),
    CommandSpec(
        "history",
        "/history REF [all|payments|service|sms|audit]",
        "what happened to a customer, newest first",
        Permission.VIEW,
    ),
    CommandSpec(
        "invoices",
        "/invoices REF",
        "a customer's invoices and receipts, each as a PDF",
        Permission.VIEW,
    ),
    CommandSpec(
        "usage",
        "/usage REF [YYYY-MM-DD YYYY-MM-DD]",
        "live session, data this period, and a chart of daily usage (default: 30 days)",
        Permission.VIEW,
    ),
    CommandSpec("plans", "/plans", "the plans on sale", Permission.VIEW),
    CommandSpec(
        "attention",
        "/attention",
        "what needs staff: open tickets, expired, unmatched money, router refusals",
        Permission.VIEW,
    ),
    CommandSpec(
        "expiring",
        "/expiring [DAYS]",
        "customers whose time ends soon (default 3 days)",
        Permission.VIEW,
    ),
    CommandSpec(
        "tickets",
        "/tickets [open|closed|all] [mine|NAME|nobody]",
        "problems subscribers reported, oldest first",
        Permission.VIEW,
    ),
    CommandSpec(
        "ticket",
        "/ticket N [assign NAME|me|nobody | reopen REASON]",
        "one ticket with its comments; assign it or open it again",
        Permission.VIEW,
    ),
    CommandSpec(
        "comment",
        "/comment N TEXT",
        "a note on ticket N for staff (the subscriber never sees it)",
        Permission.HANDLE_TICKETS,
    ),
    CommandSpec(
        "close",
        "/close N RESOLUTION",
        "close ticket N; the subscriber gets the resolution by SMS",
        Permission.HANDLE_TICKETS,
    ),
    CommandSpec(
        "list",
        '/list [active|expiring|expired|suspended|inactive] [plan:"NAME"] [router:NAME] '
        "[type:pppoe|hotspot|static] [debt|credit] [created:FROM..TO] [expires:FROM..TO] "
        "[sort:name|expiry|balance|created]",
        "customers by status, plan, router, type, balance or dates, 20 a page",
        Permission.VIEW,
    ),
    CommandSpec(
        "export",
        "/export [the filters of /list]",
        "the list as a CSV file",
        Permission.EXPORT_DATA,
    ),
    CommandSpec(
        "payments",
        "/payments FROM TO",
        "payments received from day FROM to day TO (YYYY-MM-DD) as a CSV, to reconcile",
        Permission.EXPORT_DATA,
    ),
    CommandSpec("unmatched", "/unmatched", "payments that matched no account", Permission.VIEW),
    CommandSpec(
        "routers",
        "/routers [remove NAME [MOVE_TO]]",
        "routers, their state and customers; remove one (admins)",
        Permission.VIEW,
    ),
    CommandSpec(
        "free",
        "/free POOL [PREFIX]",
        "free addresses of a pool (CIDR or ROUTER:CIDR), within a prefix like 10.0.3",
        Permission.VIEW,
    ),
    CommandSpec("stats", "/stats", "customers and revenue today and this month", Permission.VIEW),
    CommandSpec(
        "pay",
        "/pay REF AMOUNT cash|mpesa|bank|cheque [noactivate] [reference]",
        "record a payment (renews if it covers the plan; noactivate keeps it as credit)",
        Permission.RECORD_PAYMENT,
    ),
    CommandSpec(
        "assign",
        "/assign RECEIPT REF",
        "credit an unmatched payment to a customer",
        Permission.RECORD_PAYMENT,
    ),
    CommandSpec(
        "resolve",
        "/resolve ID NOTE",
        "an M-Pesa callback from /attention has been dealt with",
        Permission.RECORD_PAYMENT,
    ),
    CommandSpec(
        "stk",
        "/stk REF [AMOUNT]",
        "send an M-Pesa PIN prompt to the customer's phone",
        Permission.SEND_STK,
    ),
    CommandSpec(
        "details",
        "/details REF",
        "SMS the paybill and account number to the customer",
        Permission.SEND_SMS,
    ),
    CommandSpec(
        "login",
        "/login REF [show]",
        "SMS the customer their login; 'show' shows the password (admins, audited)",
        Permission.SEND_SMS,
    ),
    CommandSpec("sms", "/sms REF TEXT", "send the customer an SMS", Permission.SEND_SMS),
    CommandSpec(
        "note", "/note REF TEXT", "a dated note in the customer's history", Permission.WRITE_NOTES
    ),
    CommandSpec(
        "disconnect", "/disconnect REF", "drop the customer's live session", Permission.DISCONNECT
    ),
    CommandSpec(
        "suspend",
        "/suspend REF [reason]",
        "cut service until unsuspended (asks first)",
        Permission.MANAGE_CUSTOMERS,
    ),
    CommandSpec("unsuspend", "/unsuspend REF", "lift a suspension", Permission.MANAGE_CUSTOMERS),
    CommandSpec(
        "extend",
        "/extend REF DAYS|YYYY-MM-DD [reason]",
        "move expiry out",
        Permission.MANAGE_CUSTOMERS,
    ),
    CommandSpec(
        "plan",
        "/plan REF PLAN [now|renewal]",
        "change plan at the next renewal, or now (asks first)",
        Permission.MANAGE_CUSTOMERS,
    ),
    CommandSpec(
        "debt",
        "/debt REF AMOUNT [nostart] [note]",
        "serve now, pay later (nostart: record the debt, start no service)",
        Permission.MANAGE_CUSTOMERS,
    ),
    CommandSpec(
        "edit",
        "/edit REF [FIELD VALUE]",
        "change name, phone, email, address, notes, username, ip, router or account2 "
        "(shows before → after first)",
        Permission.MANAGE_CUSTOMERS,
    ),
    CommandSpec(
        "passwd",
        "/passwd REF [NEW]",
        "set or generate the login password (asks first)",
        Permission.MANAGE_CUSTOMERS,
    ),
    CommandSpec(
        "unsubscribe",
        "/unsubscribe REF credit|forfeit REASON",
        "end paid time now; its unused value is credited or forfeited (asks first)",
        Permission.MANAGE_CUSTOMERS,
    ),
    CommandSpec(
        "delete", "/delete REF", "delete a customer (asks first)", Permission.MANAGE_CUSTOMERS
    ),
    CommandSpec(
        "add",
        "/add",
        "add a customer, step by step (the first period may have its own price)",
        Permission.MANAGE_CUSTOMERS,
    ),
    CommandSpec("import", "/import", "add customers from a CSV file", Permission.MANAGE_CUSTOMERS),
    CommandSpec(
        "staff",
        "/staff [add ID NAME ROLE | role ID ROLE | remove ID]",
        "who may use the bot, and their roles",
        Permission.MANAGE_STAFF,
    ),
    CommandSpec(
        "web",
        "/web",
        "a one-time link that logs you in to the web console (once, within 15 minutes)",
        Permission.VIEW,
    ),
    CommandSpec("help", "/help", "the commands your role allows", Permission.VIEW),
    CommandSpec(
        "cancel",
        "/cancel",
        "stop adding or editing a customer, or stop waiting for a file",
        Permission.VIEW,
    ),
]

COMMANDS: dict[str, CommandSpec] = {spec.name: spec for spec in _SPECS}
# Telegram sends /start when someone opens the bot; "/card" reads better than "/c" to some.
ALIASES = {"start": "help", "card": "c", "customer": "c"}


def spec_for(name: str) -> CommandSpec | None:
    """The command called ``name`` (or one of its aliases)."""
    return COMMANDS.get(ALIASES.get(name, name))


def allowed(actor: Actor, spec: CommandSpec) -> bool:
    return can(actor, spec.permission)


def refusal(actor: Actor, spec: CommandSpec) -> str:
    role = actor.role.value if actor.role else "no role"
    return f"Your role ({role}) may not use /{spec.name}."


def help_text(actor: Actor) -> str:
    """The usage lines of every command ``actor`` may use."""
    role = actor.role.value if actor.role else "staff"
    lines = [f"You are {actor.name} ({role}). Your commands:", ""]
    for spec in _SPECS:
        if allowed(actor, spec):
            lines.append(f"{spec.usage}\n    {spec.summary}")
    lines += [
        "",
        "REF is an account number (or the additional one), phone, login or IP address.",
    ]
    return "\n".join(lines)
