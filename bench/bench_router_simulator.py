"""Benchmark: the RouterOS API simulator driven through RouterOsGateway.

Prints figures, asserts nothing: ``python -m bench.bench_router_simulator [--secrets N]
[--writes N]``.
Measures seeding, a full ``print`` with ``.proplist`` of every secret, a print by name, and
a run of writes (add, then set) each a round trip over TCP.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import TypeVar

from bench.results import emit_result
from routers.gateway import RouterCredentials
from routers.librouteros_gateway import RouterOsGateway
from sim.routeros import SimulatedRouter

_T = TypeVar("_T")
SECRETS = "/ppp/secret"


def timed(label: str, action: Callable[[], _T], count: int = 1) -> _T:
    """Run ``action`` once and print how long it took (and the rate for ``count`` operations)."""
    started = time.perf_counter()
    result = action()
    elapsed = time.perf_counter() - started
    rate = f"  ({count / elapsed:,.0f}/s)" if count > 1 else ""
    print(f"{label:<48} {elapsed * 1000:9.1f} ms{rate}")
    emit_result(f"simulator: {label}", elapsed * 1000, "ms", note=rate.strip(" ()"))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--secrets", type=int, default=50_000)
    parser.add_argument("--writes", type=int, default=10_000)
    args = parser.parse_args()

    with SimulatedRouter() as router:
        gateway = RouterOsGateway(
            RouterCredentials(router.host, router.username, router.password, port=router.port)
        )
        try:

            def seed() -> None:
                for number in range(args.secrets):
                    router.state.seed(SECRETS, {"name": f"MTJ-{number:06d}", "password": "pw"})

            timed(f"seed {args.secrets:,} secrets (in process)", seed, args.secrets)
            rows = timed(
                f"print {args.secrets:,} secrets, .proplist=.id,name,disabled",
                lambda: gateway.print(SECRETS, [".id", "name", "disabled"]),
            )
            assert len(rows) == args.secrets
            timed(
                "print one secret by name (indexed)",
                lambda: gateway.print(SECRETS, [".id"], {"name": "MTJ-000042"}),
            )
            ids = timed(
                f"{args.writes:,} adds, one round trip each",
                lambda: [
                    gateway.add(SECRETS, {"name": f"new-{number}", "password": "pw"})
                    for number in range(args.writes)
                ],
                args.writes,
            )
            timed(
                f"{args.writes:,} sets, one round trip each",
                lambda: [gateway.set(SECRETS, item_id, {"disabled": "yes"}) for item_id in ids],
                args.writes,
            )
            timed(
                f"remove {args.writes:,} ids in one command",
                lambda: gateway.remove(SECRETS, ids),
            )
        finally:
            gateway.close()


if __name__ == "__main__":
    main()
