"""Routers and the address pools customers get their IP from."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, UtcDateTime


class Router(Base):
    """A MikroTik router reached over the RouterOS API. The password is stored encrypted."""

    __tablename__ = "routers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    host: Mapped[str] = mapped_column(String(255))
    api_port: Mapped[int] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(64))
    password_encrypted: Mapped[str] = mapped_column(Text)
    # False: the plain API (port 8728), chosen explicitly; the password crosses in clear.
    use_tls: Mapped[bool] = mapped_column(Boolean, default=False)
    # With TLS, how the router's certificate is verified: its SHA-256 pinned (64 lowercase hex
    # digits), or a CA (PEM file path) its chain must lead to. Neither: "TLS NOT VERIFIED".
    tls_fingerprint: Mapped[str | None] = mapped_column(String(64))
    tls_ca: Mapped[str | None] = mapped_column(Text)
    # unknown until first checked, then online/offline from the router health check
    status: Mapped[str] = mapped_column(String(16), default="unknown")
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # When the router's session counters were last read for usage (None: never).
    usage_sampled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The router's uptime at the last check that could read it: a smaller one later means it
    # restarted (perhaps empty) between two checks, even too quickly to be seen offline.
    last_uptime_seconds: Mapped[int | None] = mapped_column(Integer)
    # When it came up from the last restart a check noticed (None: none noticed yet).
    restarted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Removed routers are kept (their sync runs, audit entries and customers' history name
    # them) but disappear from every list and are never contacted again.
    removed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    pools: Mapped[list[IpPool]] = relationship(
        back_populates="router", cascade="all, delete-orphan", order_by="IpPool.id"
    )


class IpPool(Base):
    """A CIDR block on one router from which PPPoE and static customers are given addresses."""

    __tablename__ = "ip_pools"
    __table_args__ = (UniqueConstraint("router_id", "cidr"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    router_id: Mapped[int] = mapped_column(ForeignKey("routers.id"), index=True)
    cidr: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    router: Mapped[Router] = relationship(back_populates="pools")


class PlanPool(Base):
    """A pool a plan gives its customers addresses from. A plan naming none may use any pool of
    the customer's router; one naming some, only those."""

    __tablename__ = "plan_pools"

    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("ip_pools.id"), primary_key=True, index=True)


class RouterSyncRun(Base):
    """One convergence of a router: what drift was found and what was written to fix it."""

    __tablename__ = "router_sync_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    router_id: Mapped[int] = mapped_column(ForeignKey("routers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "reconcile" (full) or "sync" (changed ones)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime] = mapped_column(UtcDateTime)
    customers: Mapped[int] = mapped_column(Integer)
    drift: Mapped[int] = mapped_column(Integer)
    writes: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
