"""Keyphrases per paper: ``extract_keyphrases`` for any texts, ``keyphrase_table`` for a snapshot."""

from pipeline.keyphrases.extract import (
    CODE_VERSION,
    extract_keyphrases,
    keyphrase_table,
    rank_keyphrases,
)

__all__ = ["CODE_VERSION", "extract_keyphrases", "keyphrase_table", "rank_keyphrases"]
