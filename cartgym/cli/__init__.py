"""The ``cartgym`` command line: a thin shell over the library (no library module imports it).

One module per command (:mod:`~cartgym.cli.main` dispatches), and :mod:`~cartgym.cli.parsing`
with what the commands share.
"""

from cartgym.cli.main import main

__all__ = ["main"]
