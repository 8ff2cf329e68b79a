"""
The SQL files of a dialect: named query blocks and numbered migrations.

Each SQL backend keeps its SQL in ``storemon/storage/sql/<dialect>/``: ``queries.sql``,
blocks that each start with a line ``-- name: NAME``, and ``migrations/NNNN_name.sql``,
the scripts that build schema version ``NNNN`` from version ``NNNN - 1``.
"""

from __future__ import annotations

import functools
import importlib.resources
import re

import attrs

from storemon.errors import StorageError

_MIGRATION_NAME = re.compile(r"(\d{4})_[a-z0-9_]+\.sql")
_NAME_LINE = "-- name:"


def named_blocks(text: str) -> dict[str, str]:
    """
    Return the blocks of an SQL file by name; comment lines inside a block are dropped.
    """
    blocks: dict[str, str] = {}
    name: str | None = None
    lines: list[str] = []
    for line in [*text.splitlines(), _NAME_LINE]:  # the sentinel closes the last block
        if line.startswith(_NAME_LINE):
            if name is not None:
                blocks[name] = "\n".join(lines).strip()
            name, lines = line.removeprefix(_NAME_LINE).strip(), []
        elif name is not None and not line.startswith("--"):
            lines.append(line)
    return blocks


@attrs.frozen
class Migration:
    """
    One numbered script of a dialect.
    """

    #: The schema version the script makes.
    version: int
    #: Its file name, such as ``0002_ingest_state.sql``.
    name: str
    script: str


class SqlFiles:
    """
    The SQL of one dialect, read from the package once and kept.
    """

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self._folder = importlib.resources.files("storemon.storage") / "sql" / dialect

    def __repr__(self) -> str:
        return f"SqlFiles({self.dialect!r})"

    @functools.cached_property
    def queries(self) -> dict[str, str]:
        """
        The named blocks of ``queries.sql``.
        """
        return named_blocks((self._folder / "queries.sql").read_text(encoding="utf-8"))

    @functools.cached_property
    def migrations(self) -> tuple[Migration, ...]:
        """
        Every migration in version order.

        Raises:
            StorageError: the files are not numbered 0001, 0002, ... without gaps.
        """
        found = []
        for entry in (self._folder / "migrations").iterdir():
            match = _MIGRATION_NAME.fullmatch(entry.name)
            if match:
                script = entry.read_text(encoding="utf-8")
                found.append(Migration(int(match.group(1)), entry.name, script))
        found.sort(key=lambda migration: migration.version)
        if [migration.version for migration in found] != list(range(1, len(found) + 1)):
            raise StorageError(
                f"{self.dialect} migrations are not numbered 0001, 0002, ... without gaps"
            )
        return tuple(found)

    @property
    def version(self) -> int:
        """
        The schema version this code writes (the number of migrations).
        """
        return len(self.migrations)
