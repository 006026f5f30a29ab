"""The USSD menu: a stateless state machine replayed from Africa's Talking's ``text`` path.

``answer_ussd(uow, phone_number, text)`` gives the next screen; docs/ussd-menu.md is the map.
``read_ussd`` gives it in a read-only unit of work, or None when the answer asks for an action.
"""

from ussd.menu.screens import MAX_SCREEN, UssdReply
from ussd.menu.session import answer_ussd, read_ussd

__all__ = ["MAX_SCREEN", "UssdReply", "answer_ussd", "read_ussd"]
