"""The one error every parser raises for input it cannot use."""

from __future__ import annotations


class ParseError(ValueError):
    """A dump that cannot be parsed. The message says what is wrong and, once known, which file."""

    def __init__(self, problem: str, file: str | None = None) -> None:
        self.problem = problem
        self.file = file
        super().__init__(f"{file}: {problem}" if file else problem)

    def for_file(self, file: str) -> ParseError:
        """The same problem, attributed to ``file``."""
        return ParseError(self.problem, file)
