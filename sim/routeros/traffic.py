"""Live-session counters: uptime and bytes that grow with time at a configurable rate.

Counters are computed when read (never ticked by a timer), so a test with a fake clock gets
exact figures. Not thread-safe on its own: ``RouterState`` serializes access.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Meter", "TrafficModel", "format_duration"]

_UNITS = (("w", 7 * 24 * 3600), ("d", 24 * 3600), ("h", 3600), ("m", 60), ("s", 1))


def format_duration(seconds: float) -> str:
    """A duration the way RouterOS prints it: ``1w2d3h4m5s`` with zero parts left out, ``0s``."""
    remaining = max(0, int(seconds))
    parts: list[str] = []
    for suffix, size in _UNITS:
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{suffix}")
    return "".join(parts) or "0s"


@dataclass
class Meter:
    """One session's (or simple queue's) counters: what was counted up to ``since``, at the rates
    in force then. A paused meter (a queue whose device is down) counts nothing."""

    started_at: float
    bytes_in: float = 0.0
    bytes_out: float = 0.0
    since: float = 0.0
    running: bool = True


class TrafficModel:
    """Per-session byte rates (the same for every session) and the meters they drive."""

    def __init__(self) -> None:
        self.bytes_in_per_second = 0.0
        self.bytes_out_per_second = 0.0

    def start(self, now: float) -> Meter:
        """A meter for a session that starts now, with counters at zero."""
        return Meter(started_at=now, since=now)

    def read(self, meter: Meter, now: float) -> tuple[str, str, str]:
        """``(uptime, bytes_in, bytes_out)`` of a meter at ``now``, formatted as RouterOS does."""
        bytes_in, bytes_out = self.counters(meter, now)
        return format_duration(now - meter.started_at), str(bytes_in), str(bytes_out)

    def counters(self, meter: Meter, now: float) -> tuple[int, int]:
        """``(bytes_in, bytes_out)`` of a meter at ``now``."""
        elapsed = max(0.0, now - meter.since) if meter.running else 0.0
        return (
            int(meter.bytes_in + self.bytes_in_per_second * elapsed),
            int(meter.bytes_out + self.bytes_out_per_second * elapsed),
        )

    def run(self, meter: Meter, running: bool, now: float) -> None:
        """Start or stop a meter counting (what it counted so far is kept)."""
        if running == meter.running:
            return
        self._bank(meter, now)
        meter.running = running

    def change_rates(
        self,
        meters: list[Meter],
        bytes_in_per_second: float,
        bytes_out_per_second: float,
        now: float,
    ) -> None:
        """Switch to new rates, first banking what every meter counted at the old ones."""
        for meter in meters:
            self._bank(meter, now)
        self.bytes_in_per_second = bytes_in_per_second
        self.bytes_out_per_second = bytes_out_per_second

    def _bank(self, meter: Meter, now: float) -> None:
        if meter.running:
            elapsed = max(0.0, now - meter.since)
            meter.bytes_in += self.bytes_in_per_second * elapsed
            meter.bytes_out += self.bytes_out_per_second * elapsed
        meter.since = now
