"""An extension point of the runtime: sections other features add to the weekly digest
(the resource library's « en vedette », for instance). The digest reads them all without
knowing any; a feature declares its section beside its code:

    @digest_section(order=10)
    async def featured(ctx: Context, week: str) -> Rich | None: ...

A section returns what to show for that ISO week (« 2026-W49 »), or None to show nothing.
It is rendered in the network's language and posted with the digest, once per room."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.context import Context
    from bot.formatting import Rich

SectionFn = Callable[["Context", str], Awaitable["Rich | None"]]


@dataclass(frozen=True, eq=False)
class DigestSection:
    fn: SectionFn
    order: int = 100

    async def __call__(self, ctx: Context, week: str) -> Rich | None:
        return await self.fn(ctx, week)


def digest_section(*, order: int = 100) -> Callable[[SectionFn], DigestSection]:
    """Declare a section of the weekly digest (`order`: its place after the signals)."""

    def declare(fn: SectionFn) -> DigestSection:
        from bot.registry import REGISTRY

        declared = DigestSection(fn, order)
        REGISTRY.digest_sections.append(declared)
        return declared

    return declare


async def sections_of(ctx: Context, week: str) -> list[Rich]:
    """Every declared section's part for `week`, in order (the empty ones left out)."""
    from bot.registry import REGISTRY

    parts = []
    for section in sorted(REGISTRY.digest_sections, key=lambda s: s.order):
        part = await section(ctx, week)
        if part is not None and part.plain.strip():
            parts.append(part)
    return parts
