"""``python -m contactops``: the same as the ``contactops`` command."""

from contactops.cli import main

main()
