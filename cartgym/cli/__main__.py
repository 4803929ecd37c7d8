"""``python -m cartgym.cli``: the same as the ``cartgym`` command."""

import sys

from cartgym.cli.main import main

sys.exit(main())
