"""SQLAlchemy models. Importing this package registers every table on ``Base.metadata``."""

from core.models.audit import AuditEvent
from core.models.base import Base, UtcDateTime
from core.models.billing import LedgerEntry, Payment, Subscription
from core.models.customers import Customer, ExpiryExtension
from core.models.network import IpPool, Router, RouterSyncRun
from core.models.plans import Plan
from core.models.staff import StaffMember

__all__ = [
    "AuditEvent",
    "Base",
    "Customer",
    "ExpiryExtension",
    "IpPool",
    "LedgerEntry",
    "Payment",
    "Plan",
    "Router",
    "RouterSyncRun",
    "StaffMember",
    "Subscription",
    "UtcDateTime",
]
