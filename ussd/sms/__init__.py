"""SMS with Africa's Talking: keywords subscribers send (``keywords``, ``commands``), the
``AfricasTalkingSms`` gateway (``gateway``), and a fake Africa's Talking (``fake_at``, imported
separately, for tests and the demo)."""
