"""The Atom feed of digests, read back by a real feed parser."""

import dagster as dg
import feedparser

from assets.resources import PaperlakeResource
from pipeline.definitions import defs
from tests.conftest import listing, materialize_snapshot, sample_papers


def test_feed_lists_every_digest_and_parses(home, instance):
    papers = sample_papers()
    for day, chosen in (("2026-11-25", papers[:40]), ("2026-11-26", papers[20:60])):
        materialize_snapshot(instance, home, f"hf-trending-{day}", listing(chosen))
    result = dg.materialize(
        [a for a in defs.assets if isinstance(a, dg.AssetsDefinition)],
        selection=[dg.AssetKey("digest_feed")],
        instance=instance,
        resources={"paperlake": PaperlakeResource()},
    )
    assert result.success
    feed = feedparser.parse((home.reports / "feed.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert [entry.title for entry in feed.entries] == [
        "Trending papers 2026-11-26: 20 new of 40",
        "Trending papers 2026-11-25: 40 new of 40",
    ]
    assert all(
        entry.link.startswith("file://") and entry.link.endswith(".html") for entry in feed.entries
    )
    for entry, top in zip(feed.entries, (papers[20:25], papers[:5]), strict=True):
        assert entry.summary == "; ".join(title for title, _ in top)
