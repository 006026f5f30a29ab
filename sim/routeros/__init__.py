"""A RouterOS API simulator: the real wire protocol over TCP or TLS, backed by an in-memory router.

``SimulatedRouter`` runs it on a background thread for tests; ``run_simulator`` serves it in the
foreground for demos (``python -m sim.routeros``). ``RouterState`` is the router itself,
usable without any socket.
"""

from sim.routeros.clock import ManualClock
from sim.routeros.faults import FaultInjector
from sim.routeros.server import ApiServer, SimulatedRouter, run_simulator
from sim.routeros.state import BLOCKED_LIST, CommandResult, RouterState
from sim.routeros.traps import CommandTrap, Trap

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
