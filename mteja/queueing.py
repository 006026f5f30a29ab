"""Wiring the job queue: huey, the tasks, router locks, gateways, and core's dispatcher."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import redis
from huey import Huey

from core.ports import MpesaGateway, OutboxSms, RecordingNotifier, SmsGateway, StaffNotifier
from core.settings import Settings
from jobs.dispatch import HueyDispatcher
from jobs.locks import FileRouterLock, RedisRouterLock, RouterLock
from jobs.payments import PaymentRuntime, PaymentTasks, register_payment_tasks
from jobs.queue import make_huey
from jobs.tasks import Runtime, Tasks, register_tasks
from mteja.bootstrap import System
from routers.desired import SyncOptions
from routers.sync import GatewayFactory, RouterSync, librouteros_factory

if TYPE_CHECKING:
    from ussd.mpesa.daraja import DarajaClient


@dataclass
class Queue:
    huey: Huey
    tasks: Tasks
    payments: PaymentTasks
    notifier: StaffNotifier


def router_locks(settings: Settings) -> RouterLock:
    """Redis leases when the queue is on Redis (several machines), file locks otherwise."""
    if settings.redis_url:
        return RedisRouterLock(redis.Redis.from_url(settings.redis_url))
    return FileRouterLock(Path(settings.lock_dir))


def daraja_client(settings: Settings) -> DarajaClient | None:
    """A Daraja client (or one for the fake Daraja at MTEJA_MPESA_BASE_URL) when configured."""
    if not (settings.mpesa_consumer_key and settings.mpesa_shortcode and settings.mpesa_passkey):
        return None
    from ussd.mpesa.daraja import PAYBILL, TILL, DarajaClient, DarajaConfig

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
    from ussd.mpesa.gateway import DarajaMpesaGateway

    client = daraja_client(settings)
    return DarajaMpesaGateway(client) if client is not None else None


def stk_callback_url(settings: Settings) -> str:
    return f"{settings.public_url.rstrip('/')}/mpesa/stk/{settings.callback_token}"


def build_queue(
    system: System,
    *,
    huey: Huey | None = None,
    gateways: GatewayFactory | None = None,
    notifier: StaffNotifier | None = None,
    locks: RouterLock | None = None,
    mpesa: MpesaGateway | None = None,
    sms: SmsGateway | None = None,
) -> Queue:
    """Register the tasks and make core's events enqueue them."""
    settings = system.settings
    huey = huey or make_huey(settings)
    staff_notifier = notifier or RecordingNotifier()
    router_runtime: list[Runtime] = []
    payment_runtime: list[PaymentRuntime] = []

    def runtime() -> Runtime:
        # Built on first use: a process that only enqueues never opens router connections.
        if not router_runtime:
            factory = gateways or librouteros_factory(
                settings.router_connect_timeout, settings.router_command_timeout
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
            from ussd.mpesa.handling import replay_unprocessed

            payment_runtime.append(
                PaymentRuntime(
                    services=system.services,
                    mpesa=mpesa or mpesa_gateway(settings),
                    sms=sms or OutboxSms(),
                    notifier=staff_notifier,
                    stk_callback_url=stk_callback_url(settings),
                    replay_callbacks=lambda: replay_unprocessed(
                        system.services, settings.mpesa_shortcode
                    ),
                )
            )
        return payment_runtime[0]

    tasks = register_tasks(huey, runtime, reconcile_every_minutes=settings.reconcile_minutes)
    payment_tasks = register_payment_tasks(huey, payments)
    system.services.dispatcher = HueyDispatcher(huey, tasks, payment_tasks)
    return Queue(huey, tasks, payment_tasks, staff_notifier)
