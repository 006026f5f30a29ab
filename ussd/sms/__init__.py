"""SMS with Africa's Talking: keywords subscribers send (``keywords``, ``commands``) and the
``AfricasTalkingSms`` gateway (``gateway``). The fake Africa's Talking for tests and the demo is
``sim.africastalking``, outside the production packages."""
