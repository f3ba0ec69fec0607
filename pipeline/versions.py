"""Artifact history: lineage, retention (garbage collection) and diffs between versions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import polars as pl

from pipeline.artifacts import ArtifactStore, ArtifactVersion

DERIVED = ("paper_keywords", "paper_links")


@dataclass(frozen=True)
class CollectionPlan:
    """What ``gc`` keeps and removes."""

    keep: list[ArtifactVersion]
    remove: list[ArtifactVersion]


def plan_collection(
    store: ArtifactStore, keep_last: int | None = None, older_than: timedelta | None = None
) -> CollectionPlan:
    """Versions to remove: beyond the ``keep_last`` newest of each artifact partition, or older
    than ``older_than``. The current version is always kept, and so is every version a kept
    version was made from (its upstream, transitively)."""
    if keep_last is None and older_than is None:
        raise ValueError("say what to keep: a number of versions, an age, or both")
    everything = store.versions()
    by_partition: dict[tuple[str, str], list[ArtifactVersion]] = {}
    for version in everything:
        by_partition.setdefault((version.artifact, version.partition), []).append(version)
    now = datetime.now(UTC)
    kept: dict[tuple[str, str], ArtifactVersion] = {}
    for versions in by_partition.values():
        newest_first = sorted(versions, key=lambda v: (v.created_at, v.version), reverse=True)
        for position, version in enumerate(newest_first):
            young = (
                older_than is None or now - datetime.fromisoformat(version.created_at) < older_than
            )
            recent = keep_last is None or position < keep_last
            if store.is_current(version) or (young and recent):
                kept[(version.artifact, version.version)] = version
    # keep what kept versions were made from
    by_id = {(v.artifact, v.version): v for v in everything}
    frontier = list(kept.values())
    while frontier:
        version = frontier.pop()
        for artifact, upstream in version.upstream.items():
            source = by_id.get((artifact, upstream))
            if source is not None and (artifact, upstream) not in kept:
                kept[(artifact, upstream)] = source
                frontier.append(source)
    removed = [v for key, v in by_id.items() if key not in kept]
    return CollectionPlan(keep=list(kept.values()), remove=removed)


def derived_from(
    store: ArtifactStore, artifact: str, papers_version: str
) -> ArtifactVersion | None:
    """The version of ``artifact`` computed from a given papers version, if any."""
    for version in store.versions(artifact):
        if version.upstream.get("papers") == papers_version:
            return version
    return None


def papers_version(store: ArtifactStore, version: ArtifactVersion) -> ArtifactVersion:
    """The papers version a raw dump or papers version stands for."""
    if version.artifact == "papers":
        return version
    if version.artifact == "raw_listing":
        for candidate in store.versions("papers", version.partition):
            if candidate.upstream.get("raw_listing") == version.version:
                return candidate
        raise LookupError(f"raw version {version.short} was never parsed into papers")
    raise LookupError(
        f"{version.artifact} {version.short} is not a snapshot version (raw or papers)"
    )


@dataclass
class SnapshotDiff:
    """What changed between two versions of a snapshot's papers and their derived tables."""

    old: ArtifactVersion
    new: ArtifactVersion
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[tuple[str, list[str]]] = field(default_factory=list)
    moved: int = 0
    keywords: list[tuple[str, list[str], list[str]]] = field(default_factory=list)
    links: list[tuple[str, list[str], list[str]]] = field(default_factory=list)


def diff_snapshots(
    store: ArtifactStore, old: ArtifactVersion, new: ArtifactVersion
) -> SnapshotDiff:
    """Compare two papers versions: papers added, removed and changed (which fields), rank moves,
    and per paper the keyphrases and links that appeared or disappeared."""
    before = pl.from_arrow(store.read_version(old))
    after = pl.from_arrow(store.read_version(new))
    result = SnapshotDiff(old, new)
    titles = dict(zip(after["paper_id"], after["title"], strict=True)) | dict(
        zip(before["paper_id"], before["title"], strict=True)
    )
    old_ids, new_ids = set(before["paper_id"]), set(after["paper_id"])
    result.added = [titles[i] for i in after["paper_id"] if i not in old_ids]
    result.removed = [titles[i] for i in before["paper_id"] if i not in new_ids]
    joined = before.join(after, on="paper_id", suffix="_new")
    fields = ("title", "abstract", "arxiv_id", "truncated", "authors")
    for row in joined.iter_rows(named=True):
        differing = [f for f in fields if row[f] != row[f"{f}_new"]]
        if differing:
            result.changed.append((row["title_new"], differing))
    result.moved = int((joined["rank"] != joined["rank_new"]).sum())
    for artifact, column, target in (
        ("paper_keywords", "keyphrase", result.keywords),
        ("paper_links", "url", result.links),
    ):
        old_rows, new_rows = (
            derived_from(store, artifact, old.version),
            derived_from(store, artifact, new.version),
        )
        if old_rows is None or new_rows is None:
            continue
        target.extend(_set_changes(store, old_rows, new_rows, column, titles))
    return result


def _set_changes(
    store: ArtifactStore,
    old: ArtifactVersion,
    new: ArtifactVersion,
    column: str,
    titles: dict[str, str],
) -> list[tuple[str, list[str], list[str]]]:
    def sets(version: ArtifactVersion) -> dict[str, set[str]]:
        frame = pl.from_arrow(store.read_version(version)).group_by("paper_id").agg(pl.col(column))
        return {row[0]: set(row[1]) for row in frame.iter_rows()}

    before, after = sets(old), sets(new)
    changes = []
    for paper_id in sorted(before.keys() | after.keys(), key=lambda i: titles.get(i, i)):
        gained = sorted(after.get(paper_id, set()) - before.get(paper_id, set()))
        lost = sorted(before.get(paper_id, set()) - after.get(paper_id, set()))
        if gained or lost:
            changes.append((titles.get(paper_id, paper_id), gained, lost))
    return changes
