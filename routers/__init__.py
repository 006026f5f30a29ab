"""MikroTik routers: the RouterGateway port and its librouteros driver (the simulator and the
in-memory fake are in ``sim.routeros``).

Importing this package opens no connection and starts no server.
"""

from routers.gateway import (
    RouterAuthFailed,
    RouterCredentials,
    RouterError,
    RouterGateway,
    RouterRejected,
    RouterUnreachable,
)

__all__ = [
    "RouterAuthFailed",
    "RouterCredentials",
    "RouterError",
    "RouterGateway",
    "RouterRejected",
    "RouterUnreachable",
]
