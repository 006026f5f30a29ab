"""Fakes and simulators of the outside systems mteja talks to: the RouterOS API (``sim.routeros``),
Safaricom Daraja (``sim.daraja``), Africa's Talking (``sim.africastalking``) and the Telegram Bot
API (``sim.telegram``).

Used by the demo, tests and benchmarks; production code never imports this package.
"""
