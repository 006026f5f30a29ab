"""/free: the free addresses of a pool, searched by prefix in big blocks."""

from __future__ import annotations

from bot.answers import Answer
from bot.context import Context
from bot.parsing import CommandLine
from core.usecases.network import list_free_addresses

FREE_LISTED = 20


def cmd_free(ctx: Context, line: CommandLine) -> Answer:
    """The first free addresses of a pool (within a prefix such as 10.0.3), and how many."""
    with ctx.uow() as uow:
        free = list_free_addresses(
            uow, ctx.actor, line.word(0), prefix=line.optional_word(1), limit=FREE_LISTED
        )
    head = f"{free.free_count:,} free in {free.block} ({free.router}:{free.pool})"
    if not free.addresses:
        return Answer(f"{head}.")
    more = "\n…more: narrow it with a prefix, e.g. /free POOL 10.0.3" if free.more else ""
    return Answer(f"{head}:\n" + "\n".join(free.addresses) + more)
