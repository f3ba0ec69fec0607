"""Deterministic synthetic corpora for benchmarks and tests.

Abstracts are recombined from the sentences of the bundled sample (so word and phrase
frequencies look like real abstracts), with a share of words swapped for words from a growing
Zipf-distributed vocabulary (so the vocabulary keeps growing with the corpus, as real text does).
About 10% of abstracts carry a URL written the messy ways real abstracts write them.

    python -m benchmarks.corpus listing --papers 100000 --out /tmp/big.txt
    python -m benchmarks.corpus series --days 7 --papers 250 --out-dir /tmp/series
    python -m benchmarks.corpus arxiv --papers 100000 --out /tmp/arxiv.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

from pipeline.home import SAMPLE_DUMP

CHROME = [
    "Get trending papers in your email inbox once a day!",
    "Get trending papers in your email inbox!",
]
MESSY_URLS = [
    "Code is available at https://github.com/{owner}/{repo}.",
    "Our code: github.com/{owner}/{repo}.",
    "Code and data are publicly available at the link: blue{{https://github.com/{owner}/{repo}}}.",
    "Project page: https://{owner}.github.io/{repo}/ .",
    "A video is at https://bit.ly/{repo}.",
    "See https://huggingface.co/datasets/{owner}/{repo} for the dataset.",
    "More results are at {repo}.ai.",
    "Try the demo at https://huggingface.co/spaces/{owner}/{repo}",
]


@dataclass(frozen=True)
class SyntheticPaper:
    title: str
    abstract: str
    arxiv_id: str


@cache
def _sample() -> tuple[list[str], list[str], list[str]]:
    """Sentences of the sample's abstracts, its title words, and its running words."""
    lines = [line for line in SAMPLE_DUMP.read_text(encoding="utf-8").splitlines()[2:] if line]
    lines[0] = lines[0].removeprefix("Subscribe")
    titles, abstracts = lines[0::2], lines[1::2]
    sentences = [
        s for a in abstracts for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", a) if "http" not in s
    ]
    title_words = [w for t in titles for w in t.split()]
    words = [w for a in abstracts for w in re.findall(r"\b[a-z]{3,}\b", a)]
    return sentences, title_words, words


class Generator:
    """A seeded source of synthetic papers."""

    def __init__(self, seed: int = 0, swap_share: float = 0.08) -> None:
        self.random = random.Random(seed)
        self.swap_share = swap_share
        self.counter = 0

    def _new_word(self) -> str:
        """A word drawn by its frequency in the sample, or now and then an invented one, so the
        vocabulary grows with the corpus (Heaps' law) while frequent words stay frequent."""
        _, _, words = _sample()
        if self.random.random() < 0.9:
            return self.random.choice(words)
        syllables = ["ra", "to", "mi", "ne", "lo", "qu", "an", "ti", "ver", "sor", "lex", "gra"]
        return "".join(self.random.choice(syllables) for _ in range(2 + self.random.randrange(4)))

    def _perturb(self, sentence: str) -> str:
        words = sentence.split(" ")
        for i in range(len(words)):
            if words[i].isalpha() and words[i].islower() and self.random.random() < self.swap_share:
                words[i] = self._new_word()
        return " ".join(words)

    def paper(self) -> SyntheticPaper:
        sentences, title_words, _ = _sample()
        self.counter += 1
        n_sentences = max(3, min(14, int(self.random.gauss(7, 2.5))))
        body = " ".join(self._perturb(self.random.choice(sentences)) for _ in range(n_sentences))
        if self.random.random() < 0.10:
            owner = self._new_word().capitalize() + str(self.random.randint(1, 99))
            repo = self._new_word() + "-" + self._new_word()
            body += " " + self.random.choice(MESSY_URLS).format(owner=owner, repo=repo)
        n_title = max(3, min(16, int(self.random.gauss(9, 3))))
        title = " ".join(self.random.choice(title_words) for _ in range(n_title)).strip(":,")
        title = f"{title} {self.counter}"  # unique: every synthetic paper is a distinct paper
        arxiv_id = f"{2300 + self.counter // 100000 % 100}.{self.counter % 100000:05d}"
        return SyntheticPaper(title, body, arxiv_id)

    def papers(self, n: int) -> Iterator[SyntheticPaper]:
        for _ in range(n):
            yield self.paper()


def listing_text(papers: list[SyntheticPaper]) -> str:
    """A dump in the listing-text format of the bundled sample."""
    body = "\n".join(f"{p.title}\n{p.abstract}" for p in papers)
    return "\n".join(CHROME) + "\nSubscribe" + body + "\n"


def write_listing(path: Path, n_papers: int, seed: int = 0) -> Path:
    """Write one listing dump of ``n_papers`` papers, streaming in chunks."""
    generator = Generator(seed)
    with path.open("w", encoding="utf-8") as out:
        out.write("\n".join(CHROME) + "\nSubscribe")
        remaining = n_papers
        while remaining:
            chunk = list(generator.papers(min(remaining, 10_000)))
            out.write("\n".join(f"{p.title}\n{p.abstract}" for p in chunk) + "\n")
            remaining -= len(chunk)
    return path


def write_series(
    out_dir: Path,
    days: int,
    per_day: int,
    *,
    overlap: float = 0.7,
    seed: int = 0,
    start: date = date(2026, 11, 1),
    prefix: str = "hf-trending",
) -> list[Path]:
    """Daily dumps where ~``overlap`` of each day's papers stay listed, at shifted ranks."""
    out_dir.mkdir(parents=True, exist_ok=True)
    generator = Generator(seed)
    shuffle = random.Random(seed + 1)
    today = list(generator.papers(per_day))
    paths = []
    for day in range(days):
        path = out_dir / f"{prefix}-{(start + timedelta(days=day)).isoformat()}.txt"
        path.write_text(listing_text(today), encoding="utf-8")
        paths.append(path)
        kept = [p for p in today if shuffle.random() < overlap]
        # papers drift: neighbours swap, newcomers enter at random ranks
        for i in range(len(kept) - 1):
            if shuffle.random() < 0.3:
                kept[i], kept[i + 1] = kept[i + 1], kept[i]
        for paper in generator.papers(per_day - len(kept)):
            kept.insert(shuffle.randrange(len(kept) + 1), paper)
        today = kept
    return paths


def write_arxiv_jsonl(path: Path, n_papers: int, seed: int = 0) -> Path:
    """Write ``n_papers`` records in the arXiv metadata snapshot schema."""
    generator = Generator(seed)
    with path.open("w", encoding="utf-8") as out:
        for paper in generator.papers(n_papers):
            record = {
                "id": paper.arxiv_id,
                "submitter": "Synthetic Author",
                "authors": "A. Author, B. Author",
                "title": paper.title,
                "comments": None,
                "journal-ref": None,
                "doi": None,
                "categories": "cs.LG",
                "license": None,
                "abstract": paper.abstract,
                "versions": [{"version": "v1", "created": "Mon, 2 Nov 2026 10:00:00 GMT"}],
                "update_date": "2026-11-02",
                "authors_parsed": [["Author", "A.", ""], ["Author", "B.", ""]],
            }
            out.write(json.dumps(record) + "\n")
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="kind", required=True)
    listing = sub.add_parser("listing", help="one listing-text dump")
    listing.add_argument("--papers", type=int, required=True)
    listing.add_argument("--out", type=Path, required=True)
    series = sub.add_parser("series", help="daily listing dumps with overlapping papers")
    series.add_argument("--days", type=int, required=True)
    series.add_argument("--papers", type=int, default=250)
    series.add_argument("--out-dir", type=Path, required=True)
    arxiv = sub.add_parser("arxiv", help="arXiv metadata JSON Lines")
    arxiv.add_argument("--papers", type=int, required=True)
    arxiv.add_argument("--out", type=Path, required=True)
    for each in (listing, series, arxiv):
        each.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.kind == "listing":
        print(write_listing(args.out, args.papers, args.seed))
    elif args.kind == "series":
        for path in write_series(args.out_dir, args.days, args.papers, seed=args.seed):
            print(path)
    else:
        print(write_arxiv_jsonl(args.out, args.papers, args.seed))


if __name__ == "__main__":
    main()
