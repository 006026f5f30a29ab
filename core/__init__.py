"""mteja core: the ISP's business rules (customers, plans, subscriptions, ledger, payments, audit).

core imports none of the adapters (bot, ussd, jobs, routers); they import it.
"""
