"""A RouterOS API simulator: the real wire protocol over TCP or TLS, backed by an in-memory router.

``SimulatedRouter`` runs it on a background thread for tests; ``run_simulator`` serves it in the
foreground for demos (``python -m routers.simulator``). ``RouterState`` is the router itself,
usable without any socket.
"""

from routers.simulator.clock import ManualClock
from routers.simulator.faults import FaultInjector
from routers.simulator.server import ApiServer, SimulatedRouter, run_simulator
from routers.simulator.state import BLOCKED_LIST, CommandResult, RouterState
from routers.simulator.traps import CommandTrap, Trap

__all__ = [
    "BLOCKED_LIST",
    "ApiServer",
    "CommandResult",
    "CommandTrap",
    "FaultInjector",
    "ManualClock",
    "RouterState",
    "SimulatedRouter",
    "Trap",
    "run_simulator",
]
