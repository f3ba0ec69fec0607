"""An Atom feed of the digests, built with feedgen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from feedgen.feed import FeedGenerator

FEED_ID = "urn:paperlake:digests"


@dataclass(frozen=True)
class FeedEntry:
    """One digest in the feed."""

    snapshot_id: str
    version: str
    title: str
    summary: str
    link: str
    updated: datetime


def atom_feed(entries: list[FeedEntry], feed_link: str) -> bytes:
    """An Atom document listing ``entries`` newest first; identical entries give identical bytes."""
    generator = FeedGenerator()
    generator.id(FEED_ID)
    generator.title("paperlake — trending papers digests")
    generator.link(href=feed_link, rel="self")
    generator.language("en")
    generator.updated(
        max((e.updated for e in entries), default=datetime.fromtimestamp(0).astimezone())
    )
    for entry in sorted(entries, key=lambda e: (e.updated, e.snapshot_id)):
        item = generator.add_entry()
        item.id(f"urn:paperlake:digest:{entry.snapshot_id}:{entry.version[:16]}")
        item.title(entry.title)
        item.link(href=entry.link)
        item.updated(entry.updated)
        item.summary(entry.summary)
    return generator.atom_str(pretty=True)
