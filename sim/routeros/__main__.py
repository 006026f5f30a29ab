"""``python -m sim.routeros``: serve a simulated RouterOS API until interrupted."""

from __future__ import annotations

import argparse
import logging
import ssl

from sim.routeros.server import run_simulator


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve."""
    parser = argparse.ArgumentParser(description="Serve a simulated MikroTik RouterOS API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8728)
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", default="simulator")
    parser.add_argument("--identity", default="MikroTik")
    parser.add_argument(
        "--download-rate",
        type=float,
        default=0.0,
        help="bytes per second each subscriber session downloads (its counters grow by it)",
    )
    parser.add_argument(
        "--upload-rate", type=float, default=0.0, help="bytes per second each session uploads"
    )
    parser.add_argument("--tls-cert", help="PEM certificate: serve api-ssl (TLS) with it")
    parser.add_argument("--tls-key", help="PEM private key of --tls-cert")
    args = parser.parse_args(argv)
    if args.download_rate < 0 or args.upload_rate < 0:
        parser.error("traffic rates are 0 or more bytes per second")
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    context = None
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    run_simulator(
        args.host,
        args.port,
        args.username,
        args.password,
        args.identity,
        context,
        download_rate=args.download_rate,
        upload_rate=args.upload_rate,
    )


if __name__ == "__main__":
    main()
