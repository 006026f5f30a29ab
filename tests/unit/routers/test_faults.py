"""The fault injector's bookkeeping: which commands a fault hits and how many times."""

from __future__ import annotations

import pytest

from sim.routeros.faults import FaultInjector


def test_no_faults_by_default() -> None:
    faults = FaultInjector()

    assert faults.latency_for("/ppp/secret", "print") == 0
    assert not faults.should_drop("/ppp/secret", "print")
    assert not faults.should_ignore_write("/ppp/secret", "add")
    assert not faults.refuse_connections


def test_the_most_specific_latency_wins() -> None:
    faults = FaultInjector()
    faults.set_latency(1.0)
    faults.set_latency(2.0, command="print")
    faults.set_latency(3.0, menu="/ppp/secret")
    faults.set_latency(4.0, menu="/ppp/secret", command="add")

    assert faults.latency_for("/queue/simple", "add") == 1.0
    assert faults.latency_for("/queue/simple", "print") == 2.0
    assert faults.latency_for("/ppp/secret", "print") == 3.0
    assert faults.latency_for("/ppp/secret", "add") == 4.0


def test_latency_reaches_login_only_when_asked() -> None:
    faults = FaultInjector()
    faults.set_latency(1.0)

    assert faults.latency_for("", "login") == 0
    faults.set_latency(2.0, command="login")
    assert faults.latency_for("", "login") == 2.0


def test_a_counted_fault_fires_that_many_times() -> None:
    faults = FaultInjector()
    faults.drop_mid_reply(times=2, menu="/ppp/secret")

    fired = [faults.should_drop("/ppp/secret", "print") for _ in range(3)]

    assert fired == [True, True, False]


def test_faults_only_hit_matching_commands() -> None:
    faults = FaultInjector()
    faults.silently_ignore_writes(times=None, menu="/ppp/secret", command="set")

    assert not faults.should_ignore_write("/ppp/secret", "add")
    assert not faults.should_ignore_write("/queue/simple", "set")
    assert faults.should_ignore_write("/ppp/secret", "set")
    assert faults.should_ignore_write("/ppp/secret", "set")


def test_reads_and_logins_are_never_ignored_or_dropped_as_writes() -> None:
    faults = FaultInjector()
    faults.silently_ignore_writes(times=None)
    faults.drop_mid_reply(times=None)

    assert not faults.should_ignore_write("/ppp/secret", "print")
    assert not faults.should_drop("", "login")


def test_probability_is_repeatable_with_a_seed() -> None:
    def pattern() -> list[bool]:
        faults = FaultInjector(seed=42)
        faults.drop_mid_reply(times=None, probability=0.5)
        return [faults.should_drop("/ppp/secret", "print") for _ in range(40)]

    first = pattern()

    assert first == pattern()
    assert any(first)
    assert not all(first)


def test_clear_removes_everything() -> None:
    faults = FaultInjector()
    faults.set_latency(1.0)
    faults.drop_mid_reply(times=None)
    faults.refuse_connections = True

    faults.clear()

    assert faults.latency_for("/ppp/secret", "print") == 0
    assert not faults.should_drop("/ppp/secret", "print")
    assert not faults.refuse_connections


@pytest.mark.parametrize(("times", "probability"), [(0, 1.0), (1, 1.5), (1, -0.1)])
def test_nonsense_settings_are_refused(times: int, probability: float) -> None:
    with pytest.raises(ValueError):
        FaultInjector().drop_mid_reply(times=times, probability=probability)
