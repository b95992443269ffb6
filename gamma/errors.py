"""The one exception type that means "the user's input is wrong"."""


class GammaInputError(ValueError):
    """Bad input: a file, a line or a flag the user can fix.

    The message is one line that names where the problem is (file:line or
    ``--flag``), what was found and what was expected.  The command line turns
    it into that line on stderr and exit status 2.
    """


def check_keys(data: dict, allowed, where: str) -> None:
    """Refuse keys of ``data`` outside ``allowed``, naming them and the allowed ones."""
    unknown = set(data) - set(allowed)
    if unknown:
        raise GammaInputError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}; "
                              f"allowed: {', '.join(sorted(map(str, allowed)))}")


def check_choice(value, choices, what: str) -> None:
    """Refuse a ``value`` outside ``choices``: "unknown <what> 'x'; expected one of a, b"."""
    if value not in choices:
        raise GammaInputError(f"unknown {what} {value!r}; expected one of {', '.join(choices)}")
