"""``python -m rmstudy`` is the ``rmstudy`` command."""

import sys

from .cli import main

sys.exit(main())
