"""The web app: every HTTP route (USSD, SMS, M-Pesa callbacks, the staff bot webhook, health) and
the staff web console under /staff/."""
