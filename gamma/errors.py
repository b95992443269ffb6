"""The one exception type that means "the user's input is wrong"."""


class GammaInputError(ValueError):
    """Bad input: a file, a line or a flag the user can fix.

    The message is one line that names where the problem is (file:line or
    ``--flag``), what was found and what was expected.  The command line turns
    it into that line on stderr and exit status 2.
    """
