"""MikroTik routers: the RouterGateway port, its librouteros driver, a fake and a simulator.

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
