"""How urgent each kind of task is: a worker always takes the most urgent waiting task first.

Router work (a payment's reconnection, an expiry's cut-off) must not wait behind a burst of
receipts, reminders or reports: under load the messages lag by seconds, the routers do not.
Higher runs first; a task given none is 0 (messages, reports, usage, housekeeping).
"""

ROUTER_PRIORITY = 100  # sync, cut-off, period start, disconnect, removal
SUBSCRIBER_WAITING_PRIORITY = 50  # an STK prompt someone is holding their phone for
