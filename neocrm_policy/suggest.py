"""Did-you-mean suggestions: the one place that guesses what an editor meant."""

from __future__ import annotations

from collections.abc import Iterable


def did_you_mean(word: object, choices: Iterable[object]) -> str | None:
    """The closest choice to a misspelt word, or None when nothing is close. YAML may
    give a number where a name was meant, so both sides are compared as text."""
    import difflib   # only when something is misspelt: not every command pays its import
    matches = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1,
                                        cutoff=0.6)
    return matches[0] if matches else None


def suggestion(word: object, choices: Iterable[object]) -> str:
    """A hint sentence: `did you mean 'x'?` or an empty string."""
    guess = did_you_mean(word, choices)
    return f"did you mean {guess!r}? " if guess else ""
