"""The RouterOS API wire format: length-prefixed words grouped into sentences.

A word is its length followed by its bytes. The length takes 1 to 5 bytes: below 0x80 one byte;
below 0x4000 two bytes with 0x8000 set; below 0x200000 three bytes with 0xC00000 set; below
0x10000000 four bytes with 0xE0000000 set; otherwise 0xF0 and the length as four bytes. A sentence
is a sequence of non-empty words ended by an empty word (a single zero byte).

Pure functions and one incremental decoder; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "MAX_WORD_LENGTH",
    "TEXT_ENCODING",
    "TEXT_ERRORS",
    "ProtocolError",
    "SentenceDecoder",
    "decode_length",
    "decode_words",
    "encode_length",
    "encode_sentence",
    "encode_word",
]

MAX_WORD_LENGTH = 0xFFFFFFFF
"""The longest word the five-byte length form can describe."""

# Words travel as UTF-8; surrogateescape lets bytes that are not UTF-8 (a comment typed in WinBox
# in a Windows code page) survive a decode/encode round trip unchanged.
TEXT_ENCODING = "utf-8"
TEXT_ERRORS = "surrogateescape"


class ProtocolError(ValueError):
    """Bytes that are not a valid RouterOS API stream (an unknown control byte, a bad length)."""


def encode_length(length: int) -> bytes:
    """The 1-5 byte prefix that announces a word of ``length`` bytes."""
    if length < 0:
        raise ProtocolError(f"negative word length {length}")
    if length < 0x80:
        return bytes((length,))
    if length < 0x4000:
        return (length | 0x8000).to_bytes(2, "big")
    if length < 0x200000:
        return (length | 0xC00000).to_bytes(3, "big")
    if length < 0x10000000:
        return (length | 0xE0000000).to_bytes(4, "big")
    if length <= MAX_WORD_LENGTH:
        return b"\xf0" + length.to_bytes(4, "big")
    raise ProtocolError(f"word of {length} bytes is too long for the API")


def _prefix_size(first_byte: int) -> int:
    """How many bytes the length prefix starting with ``first_byte`` takes."""
    if first_byte < 0x80:
        return 1
    if first_byte < 0xC0:
        return 2
    if first_byte < 0xE0:
        return 3
    if first_byte < 0xF0:
        return 4
    if first_byte == 0xF0:
        return 5
    # 0xF8 and above are reserved control bytes; 0xF1-0xF7 are not valid lengths either.
    raise ProtocolError(f"unknown control byte 0x{first_byte:02X}")


def decode_length(data: bytes | bytearray | memoryview, offset: int = 0) -> tuple[int, int] | None:
    """The length prefix at ``offset`` as ``(word_length, prefix_size)``; None if incomplete."""
    if offset >= len(data):
        return None
    first = data[offset]
    size = _prefix_size(first)
    if offset + size > len(data):
        return None
    if size == 1:
        return first, 1
    if size == 5:
        return int.from_bytes(data[offset + 1 : offset + 5], "big"), 5
    value = int.from_bytes(data[offset : offset + size], "big")
    masks = {2: 0x3FFF, 3: 0x1FFFFF, 4: 0xFFFFFFF}
    return value & masks[size], size


def encode_word(word: bytes | str) -> bytes:
    """A word with its length prefix; str words are UTF-8 encoded."""
    raw = word.encode(TEXT_ENCODING, TEXT_ERRORS) if isinstance(word, str) else word
    return encode_length(len(raw)) + raw


def encode_sentence(words: Iterable[bytes | str]) -> bytes:
    """The words of one sentence followed by the empty terminating word.

    An empty word cannot be part of a sentence (it would end it), so it is refused.
    """
    parts: list[bytes] = []
    for word in words:
        encoded = encode_word(word)
        if encoded == b"\x00":
            raise ProtocolError("a sentence cannot contain an empty word")
        parts.append(encoded)
    parts.append(b"\x00")
    return b"".join(parts)


def decode_words(sentence: list[bytes]) -> list[str]:
    """The words of a decoded sentence as text (the inverse of ``encode_word`` for str words)."""
    return [word.decode(TEXT_ENCODING, TEXT_ERRORS) for word in sentence]


class SentenceDecoder:
    """Turns a byte stream, fed in arbitrary chunks, into complete sentences.

    ``feed`` returns every sentence completed by the new bytes, each a list of words (bytes). An
    empty sentence (a lone zero byte) comes back as an empty list; RouterOS ignores those.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._words: list[bytes] = []

    @property
    def pending(self) -> int:
        """Bytes received that do not yet form a complete word."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[list[bytes]]:
        """Add received bytes; return the sentences they complete, in order."""
        self._buffer += data
        sentences: list[list[bytes]] = []
        buffer = self._buffer
        position = 0
        end = len(buffer)
        while position < end:
            decoded = decode_length(buffer, position)
            if decoded is None:
                break
            length, prefix = decoded
            word_end = position + prefix + length
            if word_end > end:
                break
            if length == 0:
                sentences.append(self._words)
                self._words = []
            else:
                self._words.append(bytes(buffer[position + prefix : word_end]))
            position = word_end
        # Drop consumed bytes once per feed, not once per word, to stay linear on big replies.
        del buffer[:position]
        return sentences
