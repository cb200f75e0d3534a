"""`python -m eval ...`: the same commands as `bedside eval ...` plus `simulate`."""

import sys

from .cli import main

sys.exit(main())
