"""Customers and the history of their expiry changes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, UtcDateTime
from core.models.network import Router
from core.models.plans import Plan


class Customer(Base):
    """A subscriber account. ``status`` follows the table in docs/architecture.md.

    ``sync_pending`` is set in the same transaction as any change the router must learn about and
    cleared only when the router has confirmed it, so a lost job can never lose a change.
    """

    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("router_id", "ip_address"),
        # The expiry job's ranges and, with id, a status's list by expiry (migration 0016).
        Index("ix_customers_status_expires_at_id", "status", "expires_at", "id"),
        # The orders of the customer lists (core.customer_list, migration 0016).
        Index("ix_customers_expires_at_id", "expires_at", "id"),
        Index("ix_customers_created_at_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_number: Mapped[str] = mapped_column(String(12), unique=True)
    # A second paybill reference (one the ISP already uses, or a generated one), stored
    # upper-case; no account number or second reference of anyone else reads the same.
    account_number2: Mapped[str | None] = mapped_column(String(20), unique=True, index=True)
    full_name: Mapped[str] = mapped_column(String(128))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    email: Mapped[str | None] = mapped_column(String(255))
    physical_address: Mapped[str | None] = mapped_column(String(255))
    connection_type: Mapped[str] = mapped_column(String(16))
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_encrypted: Mapped[str | None] = mapped_column(Text)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    pending_plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"))
    router_id: Mapped[int | None] = mapped_column(ForeignKey("routers.id"), index=True)
    ip_address: Mapped[str | None] = mapped_column(String(45), index=True)
    status: Mapped[str] = mapped_column(String(16), default="inactive")
    suspended_reason: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # When the next paid period starts inside the paid time (a plan paid "at renewal" takes
    # over, the data-cap count begins again); None when no later period is paid for.
    next_period_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    auto_renew: Mapped[bool] = mapped_column(Boolean, default=True)
    notes: Mapped[str | None] = mapped_column(Text)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    sync_pending: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    # Bumped by every change the router must learn; a sync clears sync_pending only if the
    # version it pushed is still the latest, so a change made mid-sync is never lost.
    sync_version: Mapped[int] = mapped_column(Integer, default=0)
    sync_error: Mapped[str | None] = mapped_column(Text)
    synced_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Set when the plan's data cap was reached this period: the router then gives the plan's
    # throttled profile, or blocks the login without one. Renewal clears it.
    data_capped_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    plan: Mapped[Plan] = relationship(foreign_keys=[plan_id])
    pending_plan: Mapped[Plan | None] = relationship(foreign_keys=[pending_plan_id])
    router: Mapped[Router | None] = relationship()
    parent: Mapped[Customer | None] = relationship(remote_side=[id])

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


# Part-of-the-name search (core.lookup.find) on PostgreSQL: a trigram index serves LIKE '%text%'
# on both columns the search reads, in the very expressions it compares (lower(full_name); the
# login is stored lower-case). A multicolumn GIN index answers a condition on either column.
# Migration 0006 creates it after the pg_trgm extension; SQLite has no trigram index, and its
# search reads every row.
Index(
    "ix_customers_name_trgm",
    func.lower(Customer.full_name).label("lower_full_name"),
    Customer.username,
    postgresql_using="gin",
    postgresql_ops={"lower_full_name": "gin_trgm_ops", "username": "gin_trgm_ops"},
).ddl_if(dialect="postgresql")


# The customer list by name (core.customer_list orders by lower(full_name), id; migration 0016),
# on PostgreSQL: SQLAlchemy cannot reflect an expression index on SQLite.
Index("ix_customers_lower_full_name_id", func.lower(Customer.full_name), Customer.id).ddl_if(
    dialect="postgresql"
)


class ExpiryExtension(Base):
    """A manual change of expiry by staff, with who, when and why."""

    __tablename__ = "expiry_extensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    previous_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    new_expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
