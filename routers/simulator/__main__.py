"""``python -m routers.simulator``: serve a simulated RouterOS API until interrupted."""

from __future__ import annotations

import argparse
import logging

from routers.simulator.server import run_simulator


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve."""
    parser = argparse.ArgumentParser(description="Serve a simulated MikroTik RouterOS API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8728)
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", default="simulator")
    parser.add_argument("--identity", default="MikroTik")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    run_simulator(args.host, args.port, args.username, args.password, args.identity)


if __name__ == "__main__":
    main()
