"""Fetching a feed, politely and within bounds: a conditional GET (ETag /
Last-Modified: an unchanged feed costs a 304 and no parsing), a total time-out per
request, and a size cap read as the body streams in."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

USER_AGENT = "oasis-bot/0.1 (veille)"
ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"


class FeedError(Exception):
    """A feed that could not be read this time (HTTP error, too large, not a feed)."""


@dataclass(frozen=True)
class FetchResult:
    status: int  # 200 or 304
    body: bytes
    etag: str | None
    last_modified: str | None


async def fetch(
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    timeout: float,
    max_bytes: int,
    session: aiohttp.ClientSession | None = None,
) -> FetchResult:
    headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    limits = aiohttp.ClientTimeout(total=timeout, connect=min(timeout, 10))
    own = session is None
    client = session or aiohttp.ClientSession(timeout=limits)
    try:
        async with client.get(url, headers=headers, timeout=limits, max_redirects=5) as resp:
            if resp.status == 304:
                return FetchResult(304, b"", etag, last_modified)
            if resp.status >= 400:
                raise FeedError(f"HTTP {resp.status}")
            if resp.content_length is not None and resp.content_length > max_bytes:
                raise FeedError(f"too large ({resp.content_length} bytes)")
            body = bytearray()
            async for chunk in resp.content.iter_chunked(64 * 1024):
                body += chunk
                if len(body) > max_bytes:
                    raise FeedError(f"too large (over {max_bytes} bytes)")
            return FetchResult(200, bytes(body), resp.headers.get("ETag"), resp.headers.get("Last-Modified"))
    finally:
        if own:
            await client.close()
