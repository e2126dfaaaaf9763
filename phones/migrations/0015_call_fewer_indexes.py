"""Fewer indexes on phones_call, each of which every inbound call's insert maintains:

- org_id's own index: call_org_created (org_id, created_at DESC) serves every lookup by org.
- on PostgreSQL, the `varchar_pattern_ops` `_like` copies Django adds beside the unique indexes
  of provider_sid and public_id, for LIKE 'prefix%' lookups: nothing looks calls up by a prefix
  of either (the admin's search is icontains, which no btree serves). The unique indexes stay.
"""
import django.db.models.deletion
from django.db import migrations, models

from core.like_indexes import drop_like_indexes


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
        drop_like_indexes("phones_call", ("provider_sid", "public_id")),
    ]
