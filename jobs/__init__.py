"""huey jobs: the queue, the tasks that push changes to routers, expiry at the second, sweeps.

Tasks are registered on a huey instance by ``register_tasks``, called by the composition root,
so importing this package creates no queue and opens nothing.
"""
