"""Benchmark: one full reconcile of a router holding N managed secrets with 1% drift.

``python -m bench.bench_reconcile [--secrets 50000] [--drift-percent 1] [--db sqlite|postgresql]
[--profile]``. Prints figures, asserts nothing.

The secrets are made managed by mteja itself: customers are inserted in bulk (pending) and one
full ``RouterSync.reconcile`` puts them all on the simulator. Then drift is introduced directly on
the simulator's state, as someone at WinBox (or a router that lost writes) would: profile,
disabled flag or password changed, secrets removed, managed strays added; unmanaged entries are
added too (they are not drift and must survive). The measured figure is one
``RouterSync.reconcile(router_id)``: wall seconds, drift found, and the write commands the router
received (counted by wrapping the gateway).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bench._common import (
    PPP_SECRET,
    BenchEnv,
    PhaseTimer,
    add_common_arguments,
    bench_world,
    database_label,
    emit_result,
    insert_customers,
    load_average,
    maybe_profiled,
    open_env,
    pending_count,
    wrap_router_sync,
)
from routers.gateway import RouterGateway, RouterRejected, Write
from routers.sync import GatewayFactory, RouterSync, librouteros_factory
from sim.routeros import SimulatedRouter

UNMANAGED = 20


class CountingGateway:
    """A RouterGateway that counts the commands it passes on."""

    def __init__(self, inner: RouterGateway, counts: dict[str, int]) -> None:
        self.inner = inner
        self.counts = counts

    def _count(self, what: str, items: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + items

    def print(
        self,
        menu: str,
        proplist: Sequence[str] | None = None,
        where: Mapping[str, str] | None = None,
    ) -> list[dict[str, str]]:
        rows = self.inner.print(menu, proplist, where)
        self._count("print")
        self._count("rows printed", len(rows))
        return rows

    def print_each(
        self,
        menu: str,
        proplist: Sequence[str] | None = None,
        where: Mapping[str, str] | None = None,
    ) -> Iterator[dict[str, str]]:
        self._count("print")
        for row in self.inner.print_each(menu, proplist, where):
            self._count("rows printed")
            yield row

    def add(self, menu: str, attrs: Mapping[str, str]) -> str:
        self._count("add")
        return self.inner.add(menu, attrs)

    def set(self, menu: str, item_id: str, attrs: Mapping[str, str]) -> None:
        self._count("set")
        self.inner.set(menu, item_id, attrs)

    def remove(self, menu: str, item_ids: Sequence[str]) -> None:
        self._count("remove")
        self._count("items removed", len(item_ids))
        self.inner.remove(menu, item_ids)

    def print_many(
        self, menu: str, proplist: Sequence[str] | None, wheres: Sequence[Mapping[str, str]]
    ) -> list[list[dict[str, str]]]:
        results = self.inner.print_many(menu, proplist, wheres)
        self._count("print", len(wheres))
        self._count("rows printed", sum(map(len, results)))
        return results

    def write_many(self, writes: Sequence[Write]) -> list[RouterRejected | None]:
        for write in writes:
            self._count(write.verb)
            if write.verb == "remove":
                self._count("items removed", len(write.item_ids))
        return self.inner.write_many(writes)

    def identity(self) -> str:
        return self.inner.identity()

    def resource(self) -> dict[str, str]:
        return self.inner.resource()

    def close(self) -> None:
        self.inner.close()


def counting(factory: GatewayFactory, counts: dict[str, int]) -> GatewayFactory:
    return lambda login: CountingGateway(factory(login), counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--secrets", type=int, default=50_000)
    parser.add_argument("--drift-percent", type=float, default=1.0)
    parser.add_argument("--profile", action="store_true", help="cProfile the measured reconcile")
    add_common_arguments(parser)
    args = parser.parse_args()
    with bench_world(args) as (_, url, sim):
        run(args, url, sim)


def run(args: argparse.Namespace, url: str, sim: SimulatedRouter) -> None:
    count = args.secrets
    print(
        f"bench_reconcile: {count:,} managed PPPoE secrets on one simulated router, "
        f"{database_label(url)} database; load average {load_average()}"
    )
    env = open_env(url, sim)
    started = time.perf_counter()
    far = datetime.now(UTC) + timedelta(days=30)
    insert_customers(env, count, lambda _: far)
    inserted = time.perf_counter() - started
    started = time.perf_counter()
    seed_report = RouterSync(env.services, librouteros_factory()).reconcile(env.router_id)
    print(
        f"setup: {count:,} customers inserted in bulk in {inserted:.1f} s; the first full "
        f"reconcile put them on the router in {time.perf_counter() - started:.1f} s "
        f"({seed_report.writes:,} writes); pending left: {pending_count(env)}"
    )

    introduced = introduce_drift(sim, env, count, args.drift_percent)
    print(
        f"drift introduced on the router: {sum(introduced.values()):,} entries ("
        + ", ".join(f"{what} {number}" for what, number in introduced.items())
        + f"); plus {UNMANAGED} unmanaged secrets, which are not drift"
    )

    counts: dict[str, int] = {}
    sync = RouterSync(env.services, counting(librouteros_factory(), counts))
    timer = PhaseTimer()
    wrap_router_sync(timer, sync)
    with maybe_profiled(args.profile, "RouterSync.reconcile"):
        started = time.perf_counter()
        report = sync.reconcile(env.router_id)
        elapsed = time.perf_counter() - started
    expected = sum(introduced.values())
    entries_written = counts.get("add", 0) + counts.get("set", 0) + counts.get("items removed", 0)
    verdict = "meets" if elapsed < 5 else "MISSES"
    print(
        f"reconcile {count} secrets, {args.drift_percent:g}% drift: {elapsed:.2f} s "
        f"(target < 5 s: {verdict}); drift introduced {expected}, drift found {report.drift}, "
        f"writes {report.writes} (adds {counts.get('add', 0)}, sets {counts.get('set', 0)}, "
        f"{counts.get('remove', 0)} remove command(s) for {counts.get('items removed', 0)} "
        f"strays); entries written {entries_written} == drift: {entries_written == expected}"
    )
    emit_result(
        f"full reconcile of {count:,} secrets with {args.drift_percent:g}% drift",
        elapsed,
        "s",
        target="< 5 s",
        met=elapsed < 5,
        database=database_label(url),
        note=f"drift introduced {expected}, found {report.drift}; entries written "
        f"{entries_written}",
    )
    print(
        f"  reads: {counts.get('print', 0)} print commands returning "
        f"{counts.get('rows printed', 0):,} rows; read-back rounds {report.rounds}"
    )
    accounted = sum(timer.seconds.values())
    print("  where the time went (wall time):")
    for name in timer.seconds:
        print(f"    {name:<44} {timer.line(name)}")
    print(f"    {'db: load customers and plans (the rest)':<44} {elapsed - accounted:.2f} s")
    if report.failed:
        sample = list(report.failed.items())[:3]
        print(f"  WARNING: {len(report.failed)} customers failed, e.g. {sample}")

    after = check_router(sim)
    started = time.perf_counter()
    steady = RouterSync(env.services, librouteros_factory()).reconcile(env.router_id)
    print(
        f"  afterwards: {after}; a second reconcile (no drift) took "
        f"{time.perf_counter() - started:.2f} s, drift {steady.drift}, writes {steady.writes}; "
        f"load average {load_average()}"
    )


def introduce_drift(
    sim: SimulatedRouter, env: BenchEnv, count: int, percent: float
) -> dict[str, int]:
    """Change, remove and add managed secrets on the router's state directly."""
    total = max(1, round(count * percent / 100))
    shares = {"profile": 0.25, "disabled": 0.25, "password": 0.25, "removed": 0.15}
    planned = {what: round(total * share) for what, share in shares.items()}
    planned["strays added"] = total - sum(planned.values())
    secrets_now = sim.state.execute(PPP_SECRET, "print", {".proplist": ".id,name"}).rows
    # Spread the drifted entries over the whole menu.
    step = max(1, len(secrets_now) // total)
    victims = iter(secrets_now[::step])
    other_profile = "default"
    for what in ("profile", "disabled", "password"):
        for _ in range(planned[what]):
            item = next(victims)
            change: dict[str, Any] = {
                "profile": {"profile": other_profile},
                "disabled": {"disabled": "true"},
                "password": {"password": "changed-at-winbox"},
            }[what]
            sim.state.execute(PPP_SECRET, "set", {".id": item[".id"], **change})
    removed = [next(victims)[".id"] for _ in range(planned["removed"])]
    if removed:
        sim.state.execute(PPP_SECRET, "remove", {".id": ",".join(removed)})
    for number in range(planned["strays added"]):
        sim.state.seed(
            PPP_SECRET,
            {"name": f"stray{number}", "password": "x", "comment": f"mteja:MTJ-STRAY{number:02d}"},
        )
    for number in range(UNMANAGED):
        sim.state.seed(
            PPP_SECRET, {"name": f"operator{number}", "password": "y", "comment": "hand made"}
        )
    return planned


def check_router(sim: SimulatedRouter) -> str:
    rows = sim.state.execute(PPP_SECRET, "print", {".proplist": "name,comment"}).rows
    strays = sum(1 for row in rows if row["name"].startswith("stray"))
    operators = sum(1 for row in rows if row["name"].startswith("operator"))
    return f"{strays} managed strays left, {operators}/{UNMANAGED} unmanaged secrets kept"


if __name__ == "__main__":
    main()
