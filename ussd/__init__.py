"""The telecom edge: the Starlette app for USSD, SMS and M-Pesa callbacks, and the adapters that
talk to Africa's Talking and Safaricom Daraja."""
