"""Migrations' tool for the `varchar_pattern_ops` indexes Django's PostgreSQL backend adds beside
the index of every indexed or unique CharField, for LIKE 'prefix%' lookups. Each costs every
insert of the row; where nothing looks the column up by a prefix (the admin's search is
icontains, which no btree serves), a migration drops it with `drop_like_indexes`."""
from __future__ import annotations

from django.db import migrations


def drop_like_indexes(table: str, columns: tuple[str, ...]) -> migrations.RunPython:
    """An operation dropping the `_like` indexes of `table`'s `columns` (recreated when reversed);
    nothing on other databases, which have none."""

    def names(schema_editor) -> list[tuple[str, str]]:
        return [(schema_editor._create_index_name(table, [column], suffix="_like"), column) for column in columns]

    def drop(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            for name, _ in names(schema_editor):
                schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")

    def create(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            for name, column in names(schema_editor):
                schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {schema_editor.quote_name(name)} ON "
                                      f"{schema_editor.quote_name(table)} ({schema_editor.quote_name(column)} "
                                      "varchar_pattern_ops)")

    return migrations.RunPython(drop, create)
