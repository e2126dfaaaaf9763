"""Fewer indexes on billing_usagerecord, which every text, call and renewal writes: org's own
(usage_org_kind_period begins with it) and, on PostgreSQL, the `_like` copy of the unique key
(core.like_indexes): usage is looked up by its whole key, never a prefix.
"""

import django.db.models.deletion
from django.db import migrations, models

from core.like_indexes import drop_like_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0007_ai_second_usage'),
        ('telephony', '0009_ai_connection_types'),
    ]

    operations = [
        migrations.AlterField(
            model_name='usagerecord',
            name='org',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='usage_records', to='telephony.org'),
        ),
        drop_like_indexes("billing_usagerecord", ("key",)),
    ]
