"""``python -m rmstudy`` is the ``rmstudy`` command."""

import sys

from rmstudy.cli import main

sys.exit(main())
