"""How subscribers are told to pay and whom to call, for every message that says so.

Each value is empty when the ISP has not set it; the sentence of a message that would say it
is then left out (``[...]`` parts in core.messages), never filled with "-" or the ISP's name.
"""

from __future__ import annotations

from core.phones import display_phone
from core.unit_of_work import CoreConfig


def contact_values(config: CoreConfig) -> dict[str, str]:
    """``paybill``: the M-Pesa paybill number; ``support``: the support phone as people write it."""
    return {
        "paybill": config.paybill_number,
        "support": display_phone(config.support_phone) if config.support_phone else "",
    }
