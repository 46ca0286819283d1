"""``python -m deterrence`` is the ``deterrence`` command."""

import sys

from .cli import main

sys.exit(main())
