"""A fake Safaricom Daraja: the fake itself and its server (``server``), its HTTP routes
(``routes``) and what it checks and builds on the wire (``wire``)."""
