"""Whether a customer is online, as the router can tell right now.

PPPoE and hotspot customers have a session the router lists. A static-IP customer has none: they
are online when the router has learned a complete ARP entry for their address; when it has not
(the entry timed out, or the operator pins addresses with static entries, which prove nothing),
when their simple queue counted traffic since the last usage sample. ``Presence.reason`` names
the signal used.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.usage import StoredSession
from routers.desired import COMMENT_PREFIX, QUEUE
from routers.gateway import RouterGateway

ARP = "/ip/arp"
_ARP_PROPS = ("address", "mac-address", "interface", "dynamic", "complete")
_QUEUE_PROPS = (".id", "target", "bytes")


@dataclass(frozen=True)
class LiveSession:
    """A customer's session as the router reports it (bytes counted from the router's side).

    ``session_id`` is the router's ``.id`` of the session, which tells one session from the next
    (for a static customer: their simple queue's).
    """

    address: str | None
    uptime: str | None
    bytes_in: int | None
    bytes_out: int | None
    session_id: str | None = None


@dataclass(frozen=True)
class Presence:
    """Whether the customer is online, as far as the router can tell right now."""

    state: str  # "online", "offline" or "unknown"
    session: LiveSession | None = None
    reason: str | None = None


def up_down(text: str | None) -> tuple[int, int] | None:
    """``(upload, download)`` of a simple queue's ``"upload/download"`` pair, or None."""
    upload, slash, download = (text or "").partition("/")
    if not slash or not upload.isdigit() or not download.isdigit():
        return None
    return int(upload), int(download)


def static_presence(
    gateway: RouterGateway, address: str, account_number: str, stored: StoredSession | None
) -> Presence:
    """A static customer's presence from two prints: the ARP entries of ``address`` and the
    customer's queue (by its comment). ``stored`` is the queue's last usage sample, if any.
    RouterError propagates."""
    arp = gateway.print(ARP, list(_ARP_PROPS), {"address": address})
    queues = gateway.print(QUEUE, list(_QUEUE_PROPS), {"comment": COMMENT_PREFIX + account_number})
    session = None
    if queues:
        counters = up_down(queues[0].get("bytes"))
        upload, download = counters if counters is not None else (None, None)
        # In the router's terms, as for a PPP session: what it received is the customer's upload.
        session = LiveSession(address, None, upload, download, queues[0].get(".id"))
    learned = [entry for entry in arp if entry.get("dynamic") == "true"]
    complete = [entry for entry in learned if entry.get("complete") == "true"]
    if complete:
        entry = complete[0]
        where = f"{entry.get('mac-address', '?')} on {entry.get('interface', '?')}"
        return Presence("online", session, f"ARP entry complete ({where})")
    if learned:
        return Presence("offline", reason="ARP entry incomplete: the device does not answer")
    if session is None or stored is None:
        reason = "no ARP entry, and no sample of the queue to compare with"
        return Presence("offline", reason=reason)
    if _grew(session, stored):
        reason = "no ARP entry learned; the queue's counters grew since the last sample"
        return Presence("online", session, reason)
    return Presence(
        "offline", reason="no ARP entry, and the queue counted nothing since the last sample"
    )


def _grew(session: LiveSession, stored: StoredSession) -> bool:
    download, upload = session.bytes_out or 0, session.bytes_in or 0
    last = stored.last
    if session.session_id != stored.session_key or download < last.download_bytes:
        # A new queue, or counters reset since: anything counted is new traffic.
        return download > 0 or upload > 0
    return download > last.download_bytes or upload > last.upload_bytes
