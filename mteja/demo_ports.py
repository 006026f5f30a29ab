"""The ports ``mteja demo`` listens on, each a flag, and the check that they are free."""

from __future__ import annotations

import socket
from dataclasses import dataclass

DEMO_WEB_PORT = 8000
DEMO_DARAJA_PORT = 8099
DEMO_AT_PORT = 8098
# Away from 8728/8729 so a real router or `mteja simulate-router` is not disturbed.
DEMO_NAIROBI_ROUTER_PORT = 18728
DEMO_MOMBASA_ROUTER_PORT = 18729


@dataclass(frozen=True)
class DemoPorts:
    """Every port the demo listens on, each chosen by a flag of ``mteja demo``."""

    web: int = DEMO_WEB_PORT
    daraja: int = DEMO_DARAJA_PORT
    africastalking: int = DEMO_AT_PORT
    nairobi_router: int = DEMO_NAIROBI_ROUTER_PORT
    mombasa_router: int = DEMO_MOMBASA_ROUTER_PORT

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web}"

    @property
    def daraja_url(self) -> str:
        return f"http://127.0.0.1:{self.daraja}"

    @property
    def africastalking_url(self) -> str:
        return f"http://127.0.0.1:{self.africastalking}"

    def by_flag(self) -> list[tuple[str, int]]:
        """Each port with the ``mteja demo`` flag that sets it."""
        return [
            ("--port", self.web),
            ("--daraja-port", self.daraja),
            ("--africastalking-port", self.africastalking),
            ("--nairobi-router-port", self.nairobi_router),
            ("--mombasa-router-port", self.mombasa_router),
        ]


class PortBusy(Exception):
    """A port the demo needs is taken (or given to two of its servers)."""


def check_ports(ports: DemoPorts) -> None:
    """Raise PortBusy naming the first port that cannot be listened on, and its flag.

    Checked before anything starts, so a busy port stops the demo whole, not half started.
    """
    flag_of: dict[int, str] = {}
    for flag, port in ports.by_flag():
        if port in flag_of:
            raise PortBusy(f"port {port} is given to both {flag_of[port]} and {flag}")
        flag_of[port] = flag
        if not _can_listen(port):
            raise PortBusy(
                f"port {port} on 127.0.0.1 is in use: stop what holds it, or choose another "
                f"with {flag} PORT"
            )


def _can_listen(port: int) -> bool:
    # SO_REUSEADDR as the servers set it: a port in TIME_WAIT is free, a listening one is not.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
