"""Use cases: plain functions taking the unit of work and the acting party.

Each one is one transaction's worth of work; the caller commits. Adapters (bot, USSD, M-Pesa
callbacks, CLI, jobs) all call these same functions, so every rule lives in one place.
"""
