"""The composition root: the ``mteja`` command reads settings, builds the services, starts a role.

It is the one place that knows every package; core, routers, jobs, bot and ussd never import it.
"""
