"""The RouterOS API wire format: length prefixes, words, sentences, incremental decoding."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routers.protocol import (
    MAX_WORD_LENGTH,
    ProtocolError,
    SentenceDecoder,
    decode_length,
    decode_words,
    encode_length,
    encode_sentence,
    encode_word,
)

BOUNDARIES = [
    (0, 1),
    (0x7F, 1),
    (0x80, 2),
    (0x3FFF, 2),
    (0x4000, 3),
    (0x1FFFFF, 3),
    (0x200000, 4),
    (0xFFFFFFF, 4),
    (0x10000000, 5),
    (MAX_WORD_LENGTH, 5),
]


@pytest.mark.parametrize(("length", "size"), BOUNDARIES)
def test_boundary_lengths_take_the_documented_number_of_bytes(length: int, size: int) -> None:
    encoded = encode_length(length)

    assert len(encoded) == size
    assert decode_length(encoded) == (length, size)


def test_length_prefixes_match_the_api_manual() -> None:
    assert encode_length(0x7F) == b"\x7f"
    assert encode_length(0x80) == b"\x80\x80"
    assert encode_length(0x3FFF) == b"\xbf\xff"
    assert encode_length(0x4000) == b"\xc0\x40\x00"
    assert encode_length(0x200000) == b"\xe0\x20\x00\x00"
    assert encode_length(0x10000000) == b"\xf0\x10\x00\x00\x00"


@given(st.integers(min_value=0, max_value=MAX_WORD_LENGTH))
def test_any_length_round_trips(length: int) -> None:
    encoded = encode_length(length)

    assert decode_length(encoded) == (length, len(encoded))


@given(st.integers(min_value=0, max_value=MAX_WORD_LENGTH))
def test_a_truncated_prefix_is_incomplete_not_wrong(length: int) -> None:
    encoded = encode_length(length)

    for cut in range(len(encoded)):
        assert decode_length(encoded[:cut]) is None


@pytest.mark.parametrize("length", [-1, MAX_WORD_LENGTH + 1])
def test_lengths_outside_the_format_are_refused(length: int) -> None:
    with pytest.raises(ProtocolError):
        encode_length(length)


@pytest.mark.parametrize("control_byte", [0xF1, 0xF7, 0xF8, 0xFF])
def test_reserved_control_bytes_are_refused(control_byte: int) -> None:
    with pytest.raises(ProtocolError):
        decode_length(bytes([control_byte, 0, 0, 0, 0]))


words = st.binary(min_size=1, max_size=300)
sentences = st.lists(words, min_size=1, max_size=8)


@given(st.lists(sentences, max_size=5), st.data())
def test_sentences_survive_any_chunking(batch: list[list[bytes]], data: st.DataObject) -> None:
    stream = b"".join(encode_sentence(sentence) for sentence in batch)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    decoder = SentenceDecoder()
    decoded: list[list[bytes]] = []
    start = 0
    for cut in [*cuts, len(stream)]:
        decoded += decoder.feed(stream[start:cut])
        start = cut

    assert decoded == batch
    assert decoder.pending == 0


@pytest.mark.parametrize("length", [0x7F, 0x80, 0x3FFF, 0x4000, 0x1FFFFF, 0x200000])
def test_words_at_the_boundaries_round_trip_byte_by_byte(length: int) -> None:
    word = bytes(range(256)) * (length // 256) + bytes(range(length % 256))
    stream = encode_sentence([b"!re", word])
    decoder = SentenceDecoder()

    decoded = decoder.feed(stream[:-1]) + decoder.feed(stream[-1:])

    assert decoded == [[b"!re", word]]


@given(st.lists(st.text(min_size=1, max_size=50), min_size=1, max_size=6))
def test_text_words_round_trip(sentence: list[str]) -> None:
    [decoded] = SentenceDecoder().feed(encode_sentence(sentence))

    assert decode_words(decoded) == sentence


def test_bytes_that_are_not_utf8_survive_a_text_round_trip() -> None:
    latin1_comment = "=comment=Caf\xe9".encode("latin-1")
    [decoded] = SentenceDecoder().feed(encode_sentence([latin1_comment]))

    [text] = decode_words(decoded)

    assert encode_word(text) == encode_word(latin1_comment)


def test_an_empty_sentence_decodes_as_an_empty_list() -> None:
    assert SentenceDecoder().feed(b"\x00" + encode_sentence(["/quit"])) == [[], [b"/quit"]]


def test_an_empty_word_cannot_be_put_in_a_sentence() -> None:
    with pytest.raises(ProtocolError):
        encode_sentence(["/login", ""])
