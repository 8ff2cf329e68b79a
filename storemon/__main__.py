"""
``python -m storemon``: the command line.
"""

from __future__ import annotations

import sys

from storemon.cli import main

sys.exit(main())
