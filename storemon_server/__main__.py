"""
``python -m storemon_server`` and ``storemon serve``: run the server.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """
    Parse the server's options and run it until interrupted; return the exit status.
    """
    print("storemon serve: not built yet", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
