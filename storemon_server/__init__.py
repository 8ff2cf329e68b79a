"""
storemon_server: the reference aiohttp server around the storemon library.
"""

from __future__ import annotations
