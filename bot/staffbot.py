"""The command layer: a staff member's text, button press or file in, an Answer out.

Nothing here knows Telegram. The python-telegram-bot adapter and the console both call
``StaffBot.text``, ``StaffBot.press`` and ``StaffBot.document`` and show the answers. Roles are
checked before anything is done (core checks them again); core's refusals (DomainError) are
turned into a message here, once; bad arguments get the command's usage line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from bot import add_flow, edit_flow
from bot.access import COMMANDS, CommandSpec, allowed, help_text, refusal, spec_for
from bot.add_flow import AddForm
from bot.answers import Answer
from bot.commands import (
    account,
    card,
    customer_lists,
    invoices,
    lists,
    money,
    network,
    service,
    subscriptions,
    tickets,
    usage,
)
from bot.commands.staff import cmd_staff, cmd_web
from bot.context import CONFIRMED_ACTIONS, Context, PresenceLookup
from bot.conversations import ConversationStore
from bot.edit_flow import EditForm
from bot.importer import HOW_TO, start_import
from bot.parsing import BadArguments, CommandLine, parse_command
from bot.views import ACTION_PERMISSIONS
from core.actors import Actor, Permission, can
from core.errors import DomainError
from core.history import HistoryTab
from core.unit_of_work import CoreServices, UnitOfWork
from core.usecases.bot_conversations import IDLE_LIMIT, ConversationChanged
from core.usecases.staff import staff_actor

log = logging.getLogger(__name__)

Handler = Callable[[Context, CommandLine], Answer]
Reply = TypeVar("Reply", Answer, Answer | None)
Identify = Callable[[UnitOfWork, int], Actor | None]

NOT_AUTHORISED = (
    "You are not authorised to use this bot. Your Telegram user id is {user_id}: ask the owner "
    "to add you (/staff add {user_id} NAME ROLE)."
)
STALE_BUTTON = "This button no longer works; open the card again."
FORM_EXPIRED = (
    f"This form has expired (no answer for {IDLE_LIMIT.seconds // 60} minutes); nothing was "
    "saved. {again}"
)
START_AGAIN = {"add": "Start again with /add.", "edit": "Start again with /edit REF."}
BUSY = "Another message changed this conversation at the same moment; please try again."
# Reads of the stored conversation per update, when other updates keep changing it.
ATTEMPTS = 3


@dataclass(frozen=True)
class Caller:
    """Who sent the update: the Telegram user id, a name for the log, and the chat (0: none,
    as at ``mteja console``). A conversation belongs to one user in one chat."""

    user_id: int
    name: str = ""
    chat_id: int = 0


def _cmd_help(ctx: Context, line: CommandLine) -> Answer:
    return Answer(help_text(ctx.actor))


def _cmd_cancel(ctx: Context, line: CommandLine) -> Answer:
    if ctx.session.awaiting_import:
        ctx.session.awaiting_import = False
        return Answer("Import cancelled.")
    return Answer("Nothing to cancel.")


def _cmd_edit(ctx: Context, line: CommandLine) -> Answer:
    return edit_flow.cmd_edit(ctx, line)


def _cmd_add(ctx: Context, line: CommandLine) -> Answer:
    return add_flow.start(ctx)


def _cmd_import(ctx: Context, line: CommandLine) -> Answer:
    ctx.session.awaiting_import = True
    return Answer(HOW_TO)


HANDLERS: dict[str, Handler] = {
    "find": card.cmd_find,
    "c": card.cmd_card,
    "suspend": service.cmd_suspend,
    "unsuspend": service.cmd_unsuspend,
    "disconnect": service.cmd_disconnect,
    "extend": service.cmd_extend,
    "plan": service.cmd_plan,
    "plans": service.cmd_plans,
    "pay": money.cmd_pay,
    "debt": money.cmd_debt,
    "stk": money.cmd_stk,
    "details": money.cmd_details,
    "sms": money.cmd_sms,
    "login": account.cmd_login,
    "note": account.cmd_note,
    "edit": _cmd_edit,
    "passwd": service.cmd_passwd,
    "delete": service.cmd_delete,
    "unsubscribe": subscriptions.cmd_unsubscribe,
    "history": lists.cmd_history,
    "usage": usage.cmd_usage,
    "invoices": invoices.cmd_invoices,
    "attention": lists.cmd_attention,
    "expiring": lists.cmd_expiring,
    "list": customer_lists.cmd_list,
    "export": customer_lists.cmd_export,
    "payments": customer_lists.cmd_payments,
    "unmatched": lists.cmd_unmatched,
    "tickets": tickets.cmd_tickets,
    "ticket": tickets.cmd_ticket,
    "comment": tickets.cmd_comment,
    "close": tickets.cmd_close,
    "assign": lists.cmd_assign,
    "resolve": lists.cmd_resolve,
    "routers": lists.cmd_routers,
    "free": network.cmd_free,
    "stats": lists.cmd_stats,
    "staff": cmd_staff,
    "web": cmd_web,
    "add": _cmd_add,
    "import": _cmd_import,
    "help": _cmd_help,
    "cancel": _cmd_cancel,
}


def _suspend_from_card(ctx: Context, customer_id: int) -> Answer:
    _, who = card.customer_label(ctx, customer_id)
    return service.ask_suspend(ctx, customer_id, who, service.DEFAULT_SUSPEND_REASON)


# The buttons under a customer card (bot.views.card_buttons), by verb.
CARD_ACTIONS: dict[str, Callable[[Context, int], Answer]] = {
    "sus": _suspend_from_card,
    "uns": service.do_unsuspend,
    "ext": lambda ctx, customer_id: service.extend_choices(customer_id),
    "pay": money.pay_hint,
    "debt": money.debt_hint,
    "stk": lambda ctx, customer_id: money.do_stk(ctx, customer_id, None),
    "plan": service.plan_choices,
    "pw": lambda ctx, customer_id: service.ask_password(ctx, customer_id, None),
    "dis": service.do_disconnect,
    "det": money.do_details,
    "hist": lambda ctx, customer_id: lists.history_answer(ctx, customer_id, HistoryTab.ALL, 0),
    "del": service.ask_delete,
    "fdel": lambda ctx, customer_id: service.ask_delete(ctx, customer_id, force=True),
    "sub": add_flow.start_sub_account,
    "edit": edit_flow.start,
    "login": account.do_send_login,
    "note": account.note_hint,
}


# What each kind of button needs (card buttons: bot.views.ACTION_PERMISSIONS).
_PRESS_PERMISSIONS = {
    "c": Permission.VIEW,
    "r": Permission.VIEW,
    "h": Permission.VIEW,
    "chart": Permission.VIEW,
    "inv": Permission.VIEW,
    "rct": Permission.VIEW,
    "l": Permission.VIEW,
    "le": Permission.EXPORT_DATA,
    "x": Permission.MANAGE_CUSTOMERS,
    "pl": Permission.MANAGE_CUSTOMERS,
    "pn": Permission.MANAGE_CUSTOMERS,
    "pr": Permission.MANAGE_CUSTOMERS,
    "qp": Permission.RECORD_PAYMENT,
    "qd": Permission.MANAGE_CUSTOMERS,
    "add": Permission.MANAGE_CUSTOMERS,
    "ed": Permission.MANAGE_CUSTOMERS,
    "tk": Permission.VIEW,
    "tm": Permission.HANDLE_TICKETS,
    "tc": Permission.HANDLE_TICKETS,
}


def _card_verb(text: str) -> str:
    if text not in CARD_ACTIONS:
        raise ValueError(text)
    return text


# The fields of each kind of button's data ("verb:field:field"), and how to read them.
_SHAPES: dict[str, tuple[Callable[[str], Any], ...]] = {
    "y": (str,),
    "n": (str,),
    "c": (int,),
    "r": (str,),
    "a": (_card_verb, int),
    "x": (int, str),
    "pl": (int, int),
    "pn": (int, int),
    "pr": (int, int),
    "h": (int, HistoryTab, int),
    "qp": (int, int),
    "qd": (int, int),
    "chart": (),
    "inv": (int,),
    "rct": (int,),
    "l": (customer_lists.decode, int),
    "le": (customer_lists.decode,),
    "add": (str, str),
    "ed": (str, str),
    "tk": (int,),
    "tm": (int,),
    "tc": (int,),
}


def _fields(verb: str, parts: list[str]) -> list[Any] | None:
    """The typed fields of a button's data, or None for data this bot never made."""
    shape = _SHAPES.get(verb)
    if shape is None or len(parts) != len(shape):
        return None
    try:
        return [read(part) for read, part in zip(shape, parts, strict=True)]
    except ValueError:
        return None


class StaffBot:
    """Staff commands over core, for any chat front end."""

    def __init__(
        self,
        services: CoreServices,
        *,
        presence: PresenceLookup | None = None,
        identify: Identify = staff_actor,
        public_url: str = "",
    ) -> None:
        self.services = services
        self.public_url = public_url
        self.presence = presence
        self.identify = identify
        self.conversations = ConversationStore(services)

    # -- entry points ----------------------------------------------------------------------------

    def text(self, caller: Caller, text: str) -> Answer:
        """A message: a command, or an answer to the question of a conversation."""
        return self._handle(caller, text, lambda ctx: self._text(ctx, text))

    def press(self, caller: Caller, data: str) -> Answer:
        """A button pressed under one of the bot's messages."""
        return self._handle(
            caller,
            f"[button {data}]",
            lambda ctx: self._press(ctx, data),
            refused_toast="You are not authorised.",
        )

    def refuse_document(self, caller: Caller, caption: str = "") -> Answer | None:
        """Why a file from ``caller`` would not be imported, or None if it is awaited (so an
        adapter downloads only files that will be read)."""
        return self._handle(
            caller, f"[file, caption {caption!r}]", lambda ctx: _file_refusal(ctx, caption)
        )

    def document(self, caller: Caller, filename: str, content: bytes, caption: str = "") -> Answer:
        """A file: the CSV of an ``/import``."""

        def receive(ctx: Context) -> Answer:
            refusal = _file_refusal(ctx, caption)
            if refusal is not None:
                return refusal
            log.info("%s: import of %s (%d bytes)", ctx.actor.label, filename, len(content))
            return start_import(ctx, filename, content)

        return self._handle(caller, f"[file {filename}]", receive)

    # -- inside ----------------------------------------------------------------------------------

    def _handle(
        self,
        caller: Caller,
        what: str,
        work: Callable[[Context], Reply],
        refused_toast: str | None = None,
    ) -> Reply | Answer:
        """Run ``work`` on the caller's stored conversation and store what it changed; read
        again and rerun if another process changed the conversation meanwhile."""
        with self.services.unit_of_work() as uow:
            actor = self.identify(uow, caller.user_id)
        if actor is None:
            log.warning(
                "refused: Telegram user %s (%s) is not staff; sent %r",
                caller.user_id,
                caller.name or "no name",
                what[:100],
            )
            return Answer(NOT_AUTHORISED.format(user_id=caller.user_id), toast=refused_toast)
        with self.conversations.lock(caller.user_id, caller.chat_id):
            for _ in range(ATTEMPTS):
                conversation = self.conversations.open(caller.user_id, caller.chat_id)
                ctx = Context(
                    self.services,
                    actor,
                    caller.user_id,
                    conversation.session,
                    self.presence,
                    self.public_url,
                    claim=conversation.claim,
                )
                try:
                    answer = work(ctx)
                    conversation.save()
                except ConversationChanged:
                    continue
                return answer
        log.warning("%s: conversation kept changing; update %r dropped", actor.label, what[:100])
        return Answer(BUSY, toast="Please try again.")

    def _text(self, ctx: Context, text: str) -> Answer:
        line = parse_command(text)
        form = ctx.session.conversation
        if isinstance(form, AddForm):
            return self._in_form(ctx, form, line, text)
        if isinstance(form, EditForm):
            return self._in_edit(ctx, form, line, text)
        if line is None and ctx.session.expired_form:
            return _form_expired(ctx.session.expired_form)
        if line is None:
            return Answer("Send a command; /help lists the ones your role allows.")
        spec = spec_for(line.name)
        if spec is None:
            return Answer(f"There is no /{line.name}. /help lists your commands.")
        if not allowed(ctx.actor, spec):
            return Answer(refusal(ctx.actor, spec))
        log.info("%s: /%s %s", ctx.actor.label, spec.name, line.text[:100])
        return _guarded(spec, lambda: HANDLERS[spec.name](ctx, line))

    def _in_form(self, ctx: Context, form: AddForm, line: CommandLine | None, text: str) -> Answer:
        if line is None:
            return add_flow.on_text(ctx, form, text)
        if line.name == "cancel":
            return add_flow.cancel(ctx)
        if line.name == "back":
            return add_flow.back(ctx, form)
        return add_flow.prompt(
            ctx, form, "You are adding a customer: answer the question, or /back, or /cancel."
        )

    def _in_edit(self, ctx: Context, form: EditForm, line: CommandLine | None, text: str) -> Answer:
        if line is None:
            return _guarded(None, lambda: edit_flow.on_text(ctx, form, text))
        if line.name == "cancel":
            return edit_flow.cancel(ctx)
        return edit_flow.menu(
            ctx, form, f"You are editing {form.who}: answer, or press Cancel (/cancel)."
        )

    def _press(self, ctx: Context, data: str) -> Answer:
        verb, _, rest = data.partition(":")
        fields = _fields(verb, rest.split(":") if rest else [])
        if fields is None:
            return Answer("", toast=STALE_BUTTON)
        if verb in ("y", "n"):
            return self._confirmation(ctx, verb, fields[0])
        if verb == "a":
            permission = (
                Permission.FORCE_DELETE if fields[0] == "fdel" else ACTION_PERMISSIONS[fields[0]]
            )
        else:
            permission = _PRESS_PERMISSIONS[verb]
        if not can(ctx.actor, permission):
            role = ctx.actor.role.value if ctx.actor.role else "no role"
            message = f"Your role ({role}) may not do that."
            return Answer(message, toast=message)
        log.info("%s: button %s", ctx.actor.label, data)
        return _guarded(
            None, lambda: self._route(ctx, verb, fields), edit=verb in ("h", "add", "ed", "l")
        )

    def _route(self, ctx: Context, verb: str, fields: list[Any]) -> Answer:
        if verb == "c":
            return card.press_card(ctx, fields[0])
        if verb == "r":
            return card.press_reference(ctx, fields[0])
        if verb == "a":
            return CARD_ACTIONS[fields[0]](ctx, fields[1])
        if verb == "x":
            return service.do_extend(ctx, fields[0], fields[1], "extended from the card")
        if verb == "pl":
            return service.plan_timing(ctx, fields[0], fields[1])
        if verb == "pn":
            return service.press_plan_now(ctx, fields[0], fields[1])
        if verb == "pr":
            return service.press_plan_renewal(ctx, fields[0], fields[1])
        if verb == "h":
            return lists.history_answer(ctx, fields[0], fields[1], fields[2], edit=True)
        if verb == "qp":
            return money.ask_quick_cash(ctx, fields[0], fields[1])
        if verb == "qd":
            return money.ask_quick_debt(ctx, fields[0], fields[1])
        if verb == "chart":
            return lists.press_chart(ctx)
        if verb == "inv":
            return invoices.press_invoice(ctx, fields[0])
        if verb == "rct":
            return invoices.press_receipt(ctx, fields[0])
        if verb == "l":
            return customer_lists.press_page(ctx, fields[0], fields[1])
        if verb == "le":
            return customer_lists.press_export(ctx, fields[0])
        if verb == "ed":
            form = ctx.session.conversation
            edit_form = form if isinstance(form, EditForm) else None
            if edit_form is None and ctx.session.expired_form == "edit" and fields[0] != "cancel":
                return _form_expired("edit", edit=True)
            return edit_flow.on_button(ctx, edit_form, fields[0], fields[1])
        if verb == "tk":
            return tickets.show_ticket(ctx, fields[0])
        if verb == "tm":
            return tickets.press_assign_to_me(ctx, fields[0])
        if verb == "tc":
            return tickets.press_close(ctx, fields[0])
        return self._form_button(ctx, fields)

    def _form_button(self, ctx: Context, parts: list[Any]) -> Answer:
        form = ctx.session.conversation
        if not isinstance(form, AddForm) and ctx.session.expired_form == "add":
            return _form_expired("add", edit=True)
        if not isinstance(form, AddForm):
            return Answer(
                "This form is closed; start again with /add.",
                edit=True,
                toast="This form is closed.",
            )
        return add_flow.on_button(ctx, form, parts[0], parts[1])

    def _confirmation(self, ctx: Context, verb: str, token: str) -> Answer:
        pending = ctx.take_pending(token)
        if verb == "n":
            return Answer("Cancelled; nothing changed.", edit=True, toast="Cancelled.")
        if pending is None:
            return Answer(
                "This confirmation has expired or was already used; send the command again.",
                edit=True,
                toast="Expired.",
            )
        # The token is gone from the stored conversation before the action runs: a second
        # press, here or in another process, finds nothing to run.
        ctx.claim()
        run = CONFIRMED_ACTIONS[pending.action].run
        return _guarded(None, lambda: run(ctx, **pending.arguments), edit=True)


def _form_expired(kind: str, edit: bool = False) -> Answer:
    text = FORM_EXPIRED.format(again=START_AGAIN.get(kind, ""))
    return Answer(text, edit=edit, toast="This form has expired." if edit else None)


def _file_refusal(ctx: Context, caption: str) -> Answer | None:
    spec = COMMANDS["import"]
    if not allowed(ctx.actor, spec):
        return Answer(refusal(ctx.actor, spec))
    line = parse_command(caption)
    if not ctx.session.awaiting_import and not (line and line.name == "import"):
        return Answer("To add customers from a file, send /import first.")
    return None


def _guarded(spec: CommandSpec | None, work: Callable[[], Answer], edit: bool = False) -> Answer:
    """Run a handler; core's refusals and bad arguments become a message for the staff member."""
    try:
        return work()
    except BadArguments as problem:
        usage = f"Usage: {spec.usage}" if spec else "That did not work."
        return Answer(usage + (f"\n{problem.hint}" if problem.hint else ""))
    except DomainError as refused:
        return Answer(f"⚠️ {refused.message}", edit=edit)
