"""The simulator on the wire, byte for byte: login, tags, traps, !fatal, framing."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Iterator

import pytest

from routers.protocol import SentenceDecoder, decode_words, encode_sentence
from sim.routeros import SimulatedRouter


class RawClient:
    """A bare API client: sends sentences, reads sentences, no interpretation."""

    def __init__(self, router: SimulatedRouter) -> None:
        self._socket = socket.create_connection((router.host, router.port), timeout=5)
        self._decoder = SentenceDecoder()
        self._ready: list[list[str]] = []

    def send(self, *words: str) -> None:
        self.send_bytes(encode_sentence(words))

    def send_bytes(self, data: bytes) -> None:
        self._socket.sendall(data)

    def read(self) -> list[str] | None:
        """The next sentence, or None once the router has closed the connection."""
        while not self._ready:
            data = self._socket.recv(65536)
            if not data:
                return None
            self._ready += [decode_words(words) for words in self._decoder.feed(data)]
        return self._ready.pop(0)

    def until_done(self, *words: str) -> list[list[str]]:
        """Send a command and read its reply up to and including ``!done``."""
        self.send(*words)
        reply: list[list[str]] = []
        while True:
            sentence = self.read()
            assert sentence is not None, f"connection closed after {reply}"
            reply.append(sentence)
            if sentence[0] == "!done":
                return reply

    def close(self) -> None:
        self._socket.close()


@pytest.fixture
def raw(sim: SimulatedRouter) -> Iterator[RawClient]:
    client = RawClient(sim)
    yield client
    client.close()


@pytest.fixture
def logged_in(raw: RawClient, sim: SimulatedRouter) -> RawClient:
    assert raw.until_done("/login", f"=name={sim.username}", f"=password={sim.password}") == [
        ["!done"]
    ]
    return raw


def test_a_wrong_password_is_trapped_then_the_connection_closes(
    raw: RawClient, sim: SimulatedRouter
) -> None:
    reply = raw.until_done("/login", f"=name={sim.username}", "=password=guess")

    assert reply == [["!trap", "=message=invalid user name or password (6)"], ["!done"]]
    assert raw.read() is None


def test_commands_before_login_are_fatal(raw: RawClient) -> None:
    raw.send("/ppp/secret/print")

    assert raw.read() == ["!fatal", "not logged in"]
    assert raw.read() is None


def test_the_pre_643_challenge_login_works(raw: RawClient, sim: SimulatedRouter) -> None:
    [challenge] = raw.until_done("/login")
    token = bytes.fromhex(challenge[1].removeprefix("=ret="))
    digest = hashlib.md5(b"\x00" + sim.password.encode() + token).hexdigest()

    reply = raw.until_done("/login", f"=name={sim.username}", f"=response=00{digest}")

    assert reply == [["!done"]]


def test_every_reply_sentence_carries_the_tag(logged_in: RawClient, sim: SimulatedRouter) -> None:
    sim.seed("/ppp/secret", name="alice")
    sim.seed("/ppp/secret", name="bob")

    rows = logged_in.until_done("/ppp/secret/print", "=.proplist=name", ".tag=7")
    trap = logged_in.until_done("/ppp/secret/remove", "=.id=*99", ".tag=x1")
    untagged = logged_in.until_done("/system/identity/print")

    assert rows == [
        ["!re", "=name=alice", ".tag=7"],
        ["!re", "=name=bob", ".tag=7"],
        ["!done", ".tag=7"],
    ]
    assert trap == [["!trap", "=message=no such item", ".tag=x1"], ["!done", ".tag=x1"]]
    assert untagged == [["!re", "=name=kahawa-west"], ["!done"]]


def test_add_answers_ret_and_traps_come_before_done(logged_in: RawClient) -> None:
    added = logged_in.until_done("/ppp/secret/add", "=name=alice", "=password=pw")
    duplicate = logged_in.until_done("/ppp/secret/add", "=name=alice")

    assert added == [["!done", "=ret=*1"]]
    assert duplicate == [
        ["!trap", "=message=failure: secret with the same name already exists"],
        ["!done"],
    ]


def test_an_attribute_without_a_value_is_empty(logged_in: RawClient, sim: SimulatedRouter) -> None:
    # routeros_api sends "=comment" rather than "=comment=" for an empty value.
    logged_in.until_done("/ppp/secret/add", "=name=alice", "=comment=x")

    logged_in.until_done("/ppp/secret/set", "=.id=*1", "=comment")

    assert "comment" not in sim.items("/ppp/secret")[0]


def test_unknown_paths_and_commands(logged_in: RawClient) -> None:
    assert logged_in.until_done("/routing/bgp/peer/print") == [
        ["!trap", "=message=no such command or directory (routing)"],
        ["!trap", "=message=no such command prefix"],
        ["!done"],
    ]
    assert logged_in.until_done("/ppp/secret/explode") == [
        ["!trap", "=message=no such command"],
        ["!done"],
    ]


def test_count_only(logged_in: RawClient, sim: SimulatedRouter) -> None:
    for name in ("a", "b", "c"):
        sim.seed("/ppp/secret", name=name)

    assert logged_in.until_done(
        "/ppp/secret/print", "=count-only=", "?name=b", "?name=c", "?#|"
    ) == [["!done", "=ret=2"]]


def test_empty_sentences_are_ignored_and_pipelined_commands_answered_in_order(
    logged_in: RawClient,
) -> None:
    logged_in.send_bytes(
        b"\x00"
        + encode_sentence(["/system/identity/print", ".tag=1"])
        + encode_sentence(["/cancel", ".tag=2"])
    )

    replies = [logged_in.read() for _ in range(3)]

    assert replies == [
        ["!re", "=name=kahawa-west", ".tag=1"],
        ["!done", ".tag=1"],
        ["!done", ".tag=2"],
    ]


def test_quit_is_fatal(logged_in: RawClient) -> None:
    logged_in.send("/quit")

    assert logged_in.read() == ["!fatal", "session terminated on request"]
    assert logged_in.read() is None


def test_garbage_drops_the_connection(raw: RawClient) -> None:
    raw.send_bytes(b"\xf8garbage")

    assert raw.read() is None


def test_a_simulator_bug_costs_one_connection_not_the_server(
    sim: SimulatedRouter, logged_in: RawClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(sim.state, "execute", broken)
    logged_in.send("/ppp/secret/print")
    closed = logged_in.read()
    monkeypatch.undo()
    other = RawClient(sim)
    try:
        other.until_done("/login", f"=name={sim.username}", f"=password={sim.password}")
        identity = other.until_done("/system/identity/print")
    finally:
        other.close()

    assert closed is None
    assert identity == [["!re", "=name=kahawa-west"], ["!done"]]
