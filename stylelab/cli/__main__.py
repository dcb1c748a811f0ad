"""``python -m stylelab.cli``: the ``stylelab`` command."""

import sys

from . import main

sys.exit(main())
