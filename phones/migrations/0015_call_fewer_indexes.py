"""Fewer indexes on phones_call, each of which every inbound call's insert maintains:

- org_id's own index: call_org_created (org_id, created_at DESC) serves every lookup by org.
- on PostgreSQL, the `varchar_pattern_ops` `_like` copies Django adds beside the unique indexes
  of provider_sid and public_id, for LIKE 'prefix%' lookups: nothing looks calls up by a prefix
  of either (the admin's search is icontains, which no btree serves). The unique indexes stay.
"""
import django.db.models.deletion
from django.db import migrations, models

LIKE_COLUMNS = ("provider_sid", "public_id")


def _like_indexes(schema_editor):
    table = "phones_call"
    return [(schema_editor._create_index_name(table, [column], suffix="_like"), column) for column in LIKE_COLUMNS]


def drop_like_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _ in _like_indexes(schema_editor):
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


def create_like_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in _like_indexes(schema_editor):
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {schema_editor.quote_name(name)} "
                              f"ON phones_call ({schema_editor.quote_name(column)} varchar_pattern_ops)")


class Migration(migrations.Migration):

    dependencies = [
        ('phones', '0014_agents'),
        ('telephony', '0009_ai_connection_types'),
    ]

    operations = [
        migrations.AlterField(
            model_name='call',
            name='org',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='calls', to='telephony.org'),
        ),
        migrations.RunPython(drop_like_indexes, create_like_indexes),
    ]
