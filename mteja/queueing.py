"""Wiring the job queue: huey, the tasks, router locks, gateways, and core's dispatcher."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import redis
from huey import Huey
from huey.api import TaskWrapper

from core.ports import MpesaGateway, OutboxSms, RecordingNotifier, SmsGateway, StaffNotifier
from core.settings import Settings
from core.usecases.reminders import ReminderPolicy
from core.usecases.retention import RetentionPolicy
from jobs.dispatch import HueyDispatcher
from jobs.locks import FileRouterLock, RedisRouterLock, RouterLock, check_current_lease
from jobs.messages import MessageRuntime, MessageTasks, register_message_tasks
from jobs.payments import PaymentRuntime, PaymentTasks, register_payment_tasks
from jobs.queue import make_huey
from jobs.reminders import ReminderRuntime, register_reminder_tasks
from jobs.reports import ReportRuntime, register_report_tasks
from jobs.retention import RetentionRuntime, register_retention_task
from jobs.tasks import Runtime, Tasks, register_tasks
from jobs.tickets import TicketRuntime, register_ticket_tasks
from jobs.usage import UsageRuntime, UsageTasks, register_usage_tasks
from mteja.bootstrap import System
from mteja.metrics import PrometheusMetrics, instrument, watch_queue
from payments import callback_urls
from routers.desired import SyncOptions
from routers.guarded import guarded_writes
from routers.sync import GatewayFactory, RouterSync, librouteros_factory
from routers.usage import UsageSampler

if TYPE_CHECKING:
    from payments.daraja import DarajaClient

log = logging.getLogger(__name__)


@dataclass
class Queue:
    huey: Huey
    tasks: Tasks
    payments: PaymentTasks
    messages: MessageTasks
    notifier: StaffNotifier
    ticket_alert: TaskWrapper
    expiry_reminders: TaskWrapper
    daily_summary: TaskWrapper | None = None
    usage: UsageTasks | None = None
    prune: TaskWrapper | None = None


def router_locks(settings: Settings) -> RouterLock:
    """Redis leases when the queue is on Redis (several machines), file locks otherwise."""
    if settings.redis_url:
        return RedisRouterLock(redis.Redis.from_url(settings.redis_url), prefix=settings.queue_name)
    return FileRouterLock(Path(settings.lock_dir))


def daraja_client(settings: Settings) -> DarajaClient | None:
    """A Daraja client (or one for the fake Daraja at MTEJA_MPESA_BASE_URL) when configured."""
    if not (settings.mpesa_consumer_key and settings.mpesa_shortcode and settings.mpesa_passkey):
        return None
    from payments.daraja import PAYBILL, TILL, DarajaClient, DarajaConfig

    config = DarajaConfig(
        consumer_key=settings.mpesa_consumer_key,
        consumer_secret=settings.mpesa_consumer_secret,
        shortcode=settings.mpesa_shortcode,
        passkey=settings.mpesa_passkey,
        transaction_type=TILL if settings.mpesa_transaction_type == "till" else PAYBILL,
        till_number=settings.mpesa_till_number or None,
        base_url=settings.mpesa_base_url,
    )
    return DarajaClient(config)


def mpesa_gateway(settings: Settings) -> MpesaGateway | None:
    """The MpesaGateway over Daraja, or None when M-Pesa is not configured."""
    from payments.gateway import DarajaMpesaGateway

    client = daraja_client(settings)
    return DarajaMpesaGateway(client) if client is not None else None


def sms_gateway(settings: Settings) -> SmsGateway:
    """Africa's Talking when MTEJA_SMS_BACKEND=africastalking, else the outbox (demo)."""
    if settings.sms_backend != "africastalking":
        return OutboxSms()
    from ussd.sms.gateway import AfricasTalkingSms

    return AfricasTalkingSms(
        settings.at_username,
        settings.at_api_key,
        sender_id=settings.at_sender_id or None,
        base_url=settings.at_base_url or None,
        region=settings.default_region,
    )


def retention_policy(settings: Settings) -> RetentionPolicy:
    return RetentionPolicy(
        sync_runs_days=settings.retention_sync_runs_days,
        delivery_reports_days=settings.retention_delivery_reports_days,
        sms_bodies_days=settings.retention_sms_bodies_days,
        usage_readings_days=settings.retention_usage_readings_days,
    )


def reminder_policy(settings: Settings) -> ReminderPolicy:
    return ReminderPolicy(
        offsets_days=settings.reminder_offsets_days,
        start_hour=settings.reminder_start_hour,
        end_hour=settings.reminder_end_hour,
    )


# -- the staff bot's side: alerts to the staff Telegram chat, the daily summary --------------------


def telegram_notifier(settings: Settings) -> StaffNotifier | None:
    """Alerts to MTEJA_TELEGRAM_STAFF_CHAT_ID when the bot is configured (else None: the log)."""
    chat = settings.telegram_staff_chat
    if not settings.telegram_token or chat is None:
        return None
    from bot.notifier import TelegramNotifier

    return TelegramNotifier(settings.telegram_token, chat, settings.telegram_base_url)


def report_runtime(system: System, notifier: StaffNotifier) -> ReportRuntime:
    from bot.chart import summary_chart

    return ReportRuntime(system.services, notifier, chart=summary_chart)


def stk_callback_url(settings: Settings) -> str:
    """The CallBackURL every STK push carries; a warning if Daraja would block it."""
    problem = callback_urls.callback_url_problem(settings.public_url, settings.callback_token)
    if problem is not None and settings.mpesa_shortcode:
        log.warning("STK pushes will be refused: %s", problem)
    return callback_urls.stk_callback_url(settings.public_url, settings.callback_token)


def build_queue(
    system: System,
    *,
    huey: Huey | None = None,
    gateways: GatewayFactory | None = None,
    notifier: StaffNotifier | None = None,
    locks: RouterLock | None = None,
    mpesa: MpesaGateway | None = None,
    sms: SmsGateway | None = None,
    metrics: PrometheusMetrics | None = None,
) -> Queue:
    """Register the tasks and make core's events enqueue them; with ``metrics``, count the
    events and the queue's task events there too."""
    settings = system.settings
    huey = huey or make_huey(settings)
    staff_notifier = notifier or telegram_notifier(settings) or RecordingNotifier()
    router_runtime: list[Runtime] = []
    payment_runtime: list[PaymentRuntime] = []

    def runtime() -> Runtime:
        # Built on first use: a process that only enqueues never opens router connections.
        if not router_runtime:
            factory = guarded_writes(
                gateways
                or librouteros_factory(
                    settings.router_connect_timeout, settings.router_command_timeout
                ),
                # A worker that lost its hold on a router writes nothing more to it.
                check_current_lease,
            )
            options = SyncOptions(expired_profile=settings.expired_profile or None)
            router_runtime.append(
                Runtime(
                    services=system.services,
                    router_sync=RouterSync(system.services, factory, options),
                    locks=locks or router_locks(settings),
                    notifier=staff_notifier,
                )
            )
        return router_runtime[0]

    def payments() -> PaymentRuntime:
        if not payment_runtime:
            from payments.handling import replay_unprocessed, replay_waiting_stk_callbacks

            payment_runtime.append(
                PaymentRuntime(
                    services=system.services,
                    mpesa=mpesa or mpesa_gateway(settings),
                    stk_callback_url=stk_callback_url(settings),
                    replay_callbacks=lambda: replay_unprocessed(
                        system.services, settings.mpesa_shortcode
                    ),
                    replay_waiting_stk_callbacks=lambda: replay_waiting_stk_callbacks(
                        system.services
                    ),
                )
            )
        return payment_runtime[0]

    tasks = register_tasks(huey, runtime, reconcile_every_minutes=settings.reconcile_minutes)
    payment_tasks = register_payment_tasks(huey, payments)
    message_runtime: list[MessageRuntime] = []

    def messages() -> MessageRuntime:
        if not message_runtime:
            message_runtime.append(
                MessageRuntime(system.services, sms or sms_gateway(settings), staff_notifier)
            )
        return message_runtime[0]

    message_tasks = register_message_tasks(huey, messages)
    ticket_alert = register_ticket_tasks(
        huey, lambda: TicketRuntime(system.services, staff_notifier)
    )
    expiry_reminders = register_reminder_tasks(
        huey, lambda: ReminderRuntime(system.services, reminder_policy(settings))
    )
    system.services.dispatcher = HueyDispatcher(
        huey, tasks, payment_tasks, message_tasks, ticket_alert
    )
    if metrics is not None:
        instrument(system.services, metrics)
    watch_queue(huey, metrics)
    daily_summary = register_report_tasks(huey, lambda: report_runtime(system, staff_notifier))
    usage_tasks = register_usage_tasks(
        huey, lambda: UsageRuntime(UsageSampler(system.services, runtime().router_sync.gateways))
    )
    return Queue(
        huey,
        tasks,
        payment_tasks,
        message_tasks,
        staff_notifier,
        ticket_alert,
        expiry_reminders,
        daily_summary,
        usage=usage_tasks,
        prune=register_retention_task(
            huey, lambda: RetentionRuntime(system.services, retention_policy(settings))
        ),
    )
