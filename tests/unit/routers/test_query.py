"""RouterOS API print queries, evaluated on a stack as the API manual documents them."""

from __future__ import annotations

import pytest

from sim.routeros.menus import MENUS
from sim.routeros.query import QueryError, compile_query, plain_equalities

INTERFACES = [
    {".id": "*1", "name": "ether1", "type": "ether", "mtu": "1500", "comment": "uplink"},
    {".id": "*2", "name": "ether2", "type": "ether", "mtu": "9000"},
    {".id": "*3", "name": "vlan10", "type": "vlan", "mtu": "1500", "comment": ""},
    {".id": "*4", "name": "pppoe-out", "type": "pppoe-out", "mtu": "1480"},
]


def names(*words: str) -> list[str]:
    matches = compile_query(words)
    return [item["name"] for item in INTERFACES if matches(item)]


def test_no_query_matches_everything() -> None:
    assert names() == ["ether1", "ether2", "vlan10", "pppoe-out"]


@pytest.mark.parametrize("word", ["?type=ether", "?=type=ether"])
def test_equality_in_both_spellings(word: str) -> None:
    assert names(word) == ["ether1", "ether2"]


def test_has_and_lacks_a_property() -> None:
    assert names("?comment") == ["ether1", "vlan10"]
    assert names("?-comment") == ["ether2", "pppoe-out"]


def test_less_and_greater_compare_numbers_as_numbers() -> None:
    assert names("?<mtu=1500") == ["pppoe-out"]
    assert names("?>mtu=1500") == ["ether2"]


def test_greater_than_empty_finds_non_empty_comments() -> None:
    # The manual's own example: "/ip/route/print ?>comment=".
    assert names("?>comment=") == ["ether1"]


def test_consecutive_words_are_anded() -> None:
    assert names("?type=ether", "?mtu=1500") == ["ether1"]


def test_or_of_two_types() -> None:
    # The manual's example: all ethernet and VLAN interfaces.
    assert names("?type=ether", "?type=vlan", "?#|") == ["ether1", "ether2", "vlan10"]


def test_or_then_not() -> None:
    assert names("?type=ether", "?type=vlan", "?#|!") == ["pppoe-out"]


def test_nand_of_two_conditions() -> None:
    # The manual's example: where !(mtu>1480 && type=ether).
    assert names("?>mtu=1480", "?type=ether", "?#&!") == ["vlan10", "pppoe-out"]


def test_librouteros_not_equal_form() -> None:
    # librouteros's Key("type") != "ether" sends these two words.
    assert names("?=type=ether", "?#!") == ["vlan10", "pppoe-out"]


def test_librouteros_in_form_ors_many_values() -> None:
    words = ["?=name=ether1", "?=name=vlan10", "?=name=nothing", "?#|", "?#|"]

    assert names(*words) == ["ether1", "vlan10"]


def test_dot_pushes_a_copy_of_the_top() -> None:
    # "?#.!" copies the top and negates the copy: x && !x never holds.
    assert names("?type=ether", "?#.!") == []


def test_an_index_followed_by_a_character_pushes_a_copy() -> None:
    # Stack [ether?, vlan?]; "1" copies ether? to the top, "|" ors it with vlan?: the stack is
    # then [ether?, ether? || vlan?] and both must hold.
    assert names("?type=ether", "?type=vlan", "?#1|") == ["ether1", "ether2"]


def test_a_dot_after_an_index_does_nothing_more() -> None:
    assert names("?type=ether", "?type=vlan", "?#1.|") == names("?type=ether", "?type=vlan", "?#1|")


def test_an_index_at_the_end_replaces_the_whole_stack() -> None:
    # Keep only the value at depth 1 (the first test) and drop the second.
    assert names("?type=ether", "?mtu=1500", "?#1") == ["ether1", "ether2"]
    assert names("?type=ether", "?mtu=1500", "?#0") == ["ether1", "vlan10"]


def test_operators_on_an_empty_stack_use_the_endless_trues() -> None:
    assert names("?#!") == []
    assert names("?#&") == names()
    assert names("?type=vlan", "?#&") == ["vlan10"]


def test_absent_properties_never_compare() -> None:
    assert names("?<comment=zzz") == ["ether1", "vlan10"]


@pytest.mark.parametrize("word", ["?#x", "?", "?<=1", "?#1a"])
def test_malformed_words_are_refused(word: str) -> None:
    with pytest.raises(QueryError):
        compile_query([word])


def test_booleans_are_compared_in_their_printed_form() -> None:
    secret = MENUS["/ppp/secret"]
    matches = compile_query(["?disabled=yes"], secret.normalize)

    assert matches({"disabled": "true"})
    assert not matches({"disabled": "false"})


def test_plain_equalities_are_recognized_for_indexed_lookups() -> None:
    assert plain_equalities(["?name=a", "?=list=b"]) == {"name": "a", "list": "b"}
    assert plain_equalities([]) == {}
    assert plain_equalities(["?name=a", "?#!"]) is None
    assert plain_equalities(["?name"]) is None
    assert plain_equalities(["?>name=a"]) is None
    assert plain_equalities(["?name=a", "?name=b"]) is None
