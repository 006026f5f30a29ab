"""SQLAlchemy models. Importing this package registers every table on ``Base.metadata``."""

from core.models.audit import AuditEvent
from core.models.base import Base, UtcDateTime
from core.models.billing import LedgerEntry, Payment, Subscription
from core.models.customers import Customer, ExpiryExtension
from core.models.invoices import (
    DocumentCounter,
    Invoice,
    InvoiceLine,
    PaymentAllocation,
    Receipt,
)
from core.models.mpesa import MpesaCallback, StkRequest
from core.models.network import IpPool, PlanPool, Router, RouterSyncRun
from core.models.periodic import PeriodicRun
from core.models.plans import Plan
from core.models.selfservice import InboundSms, PhonePreference, Ticket, TicketComment
from core.models.sms import PendingDeliveryReport, SmsMessage
from core.models.staff import (
    BotConversation,
    StaffFormSubmission,
    StaffLoginFailure,
    StaffLoginLink,
    StaffMember,
    StaffSession,
)
from core.models.usage import DailyUsage, UsagePeriod, UsageReading

__all__ = [
    "AuditEvent",
    "Base",
    "BotConversation",
    "Customer",
    "DailyUsage",
    "DocumentCounter",
    "ExpiryExtension",
    "InboundSms",
    "Invoice",
    "InvoiceLine",
    "IpPool",
    "LedgerEntry",
    "MpesaCallback",
    "Payment",
    "PaymentAllocation",
    "PendingDeliveryReport",
    "PeriodicRun",
    "PhonePreference",
    "Plan",
    "PlanPool",
    "Receipt",
    "Router",
    "RouterSyncRun",
    "SmsMessage",
    "StaffFormSubmission",
    "StaffLoginFailure",
    "StaffLoginLink",
    "StaffMember",
    "StaffSession",
    "StkRequest",
    "Subscription",
    "Ticket",
    "TicketComment",
    "UsagePeriod",
    "UsageReading",
    "UtcDateTime",
]
