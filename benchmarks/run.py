"""paperlake's benchmark script: every performance target, measured, in one table.

    python -m benchmarks.run                 # every section
    python -m benchmarks.run parser          # one section (see --help for the list)

Each figure is the median of ``--repeat`` runs (default 3) on this machine, next to its target;
peers (YAKE, scikit-learn, other URL extractors) are measured in the same run so ratios compare
like with like on a shared, noisy machine. Results also go to ``benchmarks/out/<section>.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

OUT = Path(__file__).parent / "out"


@dataclass
class Result:
    section: str
    measure: str
    value: float
    unit: str
    target: str = ""
    passed: bool | None = None
    note: str = ""


def median_time(action: Callable[[], object], repeat: int) -> tuple[float, list[float]]:
    """Median wall time of ``repeat`` calls (after one untimed warm-up call)."""
    action()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def bench_parser(args: argparse.Namespace) -> list[Result]:
    """Listing-text parser throughput on a large generated dump."""
    from benchmarks.corpus import write_listing
    from pipeline.formats import parse_dump

    with tempfile.TemporaryDirectory() as tmp:
        path = write_listing(Path(tmp) / "big.txt", args.papers, seed=1)
        data = path.read_bytes()
    seconds, runs = median_time(lambda: parse_dump(data, "big.txt"), args.repeat)
    megabytes = len(data) / 1e6
    return [
        Result(
            "parser",
            "listing text parse",
            megabytes / seconds,
            "MB/s",
            note=f"{args.papers:,} papers, {megabytes:.0f} MB, runs {_fmt(runs)} s",
        ),
        Result("parser", "listing text parse", args.papers / seconds, "papers/s"),
    ]


def _link_extractors() -> dict[str, Callable[[str], list[str]]]:
    """paperlake's vectorised detector and the well-kept libraries it was measured against."""
    import polars as pl
    from linkify_it import LinkifyIt
    from urlextract import URLExtract

    from pipeline.links import find_urls

    linkify, urlextract = LinkifyIt(), URLExtract()
    return {
        "paperlake regex (polars)": lambda text: find_urls(pl.Series([text]))["url_raw"].to_list(),
        "linkify-it-py": lambda text: [m.raw for m in (linkify.match(text) or [])],
        "urlextract": urlextract.find_urls,
    }


def bench_links(args: argparse.Namespace) -> list[Result]:
    """URL detection: correctness on hand-checked cases, speed against two libraries."""
    import polars as pl

    from benchmarks.corpus import Generator
    from pipeline.links import canonicalize, find_urls

    cases = json.loads(
        (Path(__file__).parent.parent / "tests/fixtures/link-cases.json").read_text()
    )
    papers = list(Generator(seed=2).papers(args.link_docs))
    texts = [f"{p.title}\n{p.abstract}" for p in papers]
    peer_texts = texts[: args.peer_docs]
    results = []
    for name, extract in _link_extractors().items():
        correct = 0
        for case in cases:
            found: list[str] = []
            for raw in extract(case["text"]):
                link = canonicalize(raw)
                if link is not None and link.url not in found:
                    found.append(link.url)
            correct += found == case["urls"]
        if name.startswith("paperlake"):
            seconds, _ = median_time(lambda: find_urls(pl.Series(texts)), args.repeat)
            docs = len(texts)
        else:
            seconds, _ = median_time(lambda ex=extract: [ex(t) for t in peer_texts], args.repeat)
            docs = len(peer_texts)
        results.append(Result("links", f"{name}: hard cases right", correct, f"of {len(cases)}"))
        results.append(
            Result(
                "links",
                f"{name}: speed",
                docs / seconds,
                "docs/s",
                note=f"{docs:,} generated abstracts",
            )
        )
    ours, *peers = [r.value for r in results if r.unit == "docs/s"]
    for result, peer in zip([r for r in results if r.unit == "docs/s"][1:], peers, strict=True):
        result.note += f"; paperlake is {ours / peer:,.0f}x faster"
    return results


def _load_evaluator(path: Path):
    """The shared evaluator (``evaluate.py`` beside the Inspec file), imported from its path."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("keyphrase_evaluate", path.parent / "evaluate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _yake(texts: list[str]) -> list[list[str]]:
    import yake

    extractor = yake.KeywordExtractor(lan="en", n=3, top=10)
    return [[phrase for phrase, _ in extractor.extract_keywords(text)] for text in texts]


def _tfidf(texts: list[str]) -> list[list[str]]:
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(ngram_range=(1, 3), stop_words="english")
    matrix = vectorizer.fit_transform(texts)
    vocabulary = vectorizer.get_feature_names_out()
    result = []
    for row in matrix:
        top = row.indices[np.argsort(-row.data)[:10]]
        result.append([vocabulary[i] for i in top])
    return result


def bench_keyphrases(args: argparse.Namespace) -> list[Result]:
    """Keyphrase quality on Inspec (shared evaluator) and speed, against YAKE and TF-IDF."""
    from benchmarks.corpus import Generator
    from benchmarks.evaluation import macro_f1
    from pipeline.keyphrases import extract_keyphrases

    evaluator = _load_evaluator(args.inspec)
    data = [dict(d, id=str(d["id"])) for d in evaluator.read_jsonl(str(args.inspec))]
    texts = [d["text"] for d in data]
    generated = [f"{p.title}\n{p.abstract}" for p in Generator(seed=3).papers(args.keyphrase_docs)]
    methods = {"paperlake": extract_keyphrases, "YAKE": _yake, "scikit-learn TF-IDF 1-3": _tfidf}
    results, speed = [], {}
    for name, extract in methods.items():
        predictions = extract(texts)
        shared, _ = evaluator.score(
            data, {d["id"]: p for d, p in zip(data, predictions, strict=True)}
        )
        ours = {k: macro_f1(predictions, [d["keyphrases"] for d in data], k) for k in (5, 10)}
        corpus = generated if name == "paperlake" else generated[: args.peer_docs]
        seconds, runs = median_time(lambda ex=extract, c=corpus: ex(c), args.repeat)
        speed[name] = len(corpus) / seconds
        is_ours = name == "paperlake"
        for k, target in ((5, 27), (10, 33)):
            results.append(
                Result(
                    "keyphrases",
                    f"{name}: Inspec F1@{k}",
                    shared[f"F1@{k}"],
                    "",
                    f"≥ {target}" if is_ours else "",
                    shared[f"F1@{k}"] >= target if is_ours else None,
                    f"shared evaluate.py; benchmarks.evaluation gives {ours[k]:.2f}",
                )
            )
        results.append(
            Result(
                "keyphrases",
                f"{name}: speed",
                speed[name],
                "docs/s",
                "≥ 3,000" if is_ours else "",
                speed[name] >= 3000 if is_ours else None,
                f"{len(corpus):,} generated abstracts, runs {_fmt(runs)} s",
            )
        )
    for result in results:
        if result.measure == "paperlake: speed":
            result.note += "; " + ", ".join(
                f"{speed['paperlake'] / v:,.0f}x {n}" for n, v in speed.items() if n != "paperlake"
            )
    return results


SECTIONS: dict[str, Callable[[argparse.Namespace], list[Result]]] = {
    "keyphrases": bench_keyphrases,
    "parser": bench_parser,
    "links": bench_links,
}


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def render(results: list[Result]) -> str:
    lines = [
        f"machine: {platform.machine()}, {_cpu_count()} cores, Python {platform.python_version()}",
        "",
        "| section | measure | value | target | pass | note |",
        "|---|---|---:|---|---|---|",
    ]
    for r in results:
        verdict = "" if r.passed is None else ("yes" if r.passed else "NO")
        lines.append(
            f"| {r.section} | {r.measure} | {r.value:,.1f} {r.unit} | {r.target} | {verdict} | {r.note} |"
        )
    return "\n".join(lines)


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "sections", nargs="*", help=f"sections to run (default: all): {', '.join(SECTIONS)}"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="timed runs per figure (median reported)"
    )
    parser.add_argument(
        "--papers", type=int, default=100_000, help="papers in the parser's generated dump"
    )
    parser.add_argument(
        "--link-docs", type=int, default=100_000, help="abstracts for paperlake's URL detection"
    )
    parser.add_argument(
        "--peer-docs", type=int, default=2_000, help="abstracts for the slower peer libraries"
    )
    parser.add_argument(
        "--keyphrase-docs",
        type=int,
        default=50_000,
        help="abstracts for paperlake's extractor speed",
    )
    parser.add_argument(
        "--inspec",
        type=Path,
        default=Path(__file__).resolve().parents[2]
        / "shared/benchmarks/keyphrase/inspec-dev.jsonl",
        help="Inspec development file (its evaluate.py must sit beside it)",
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.sections) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    OUT.mkdir(exist_ok=True)
    results: list[Result] = []
    for name in args.sections or list(SECTIONS):
        section = SECTIONS[name](args)
        (OUT / f"{name}.json").write_text(json.dumps([asdict(r) for r in section], indent=2))
        results.extend(section)
        print(render(section), flush=True)
    if len(args.sections) != 1:
        print("\n" + render(results))


if __name__ == "__main__":
    main()
