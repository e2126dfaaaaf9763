"""Fewer indexes on the tables every inbound text writes (its row, its thread, its usage):

- message_unthreaded holds exactly the texts the threading task looks for (inbound, no
  conversation, answered, on a number): an inbound text stored without an answer or on a
  released number is no longer in it, to be stepped over by every batch's query;
- the foreign keys' own indexes that a composite index already begins with:
  message.phone_number (message_phone_created), conversation.phone_number (the unique
  (phone_number, contact)) and conversation.org (conversation_org_last);
- on PostgreSQL, the `_like` copies of the unique public_id of both and of message.provider_sid
  (core.like_indexes).
"""

import django.db.models.deletion
from django.db import migrations, models

from core.like_indexes import drop_like_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('phones', '0015_call_fewer_indexes'),
        ('telephony', '0009_ai_connection_types'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='message',
            name='message_unthreaded',
        ),
        migrations.AlterField(
            model_name='conversation',
            name='org',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='conversations', to='telephony.org'),
        ),
        migrations.AlterField(
            model_name='conversation',
            name='phone_number',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='conversations', to='phones.phonenumber'),
        ),
        migrations.AlterField(
            model_name='message',
            name='phone_number',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='messages', to='phones.phonenumber'),
        ),
        migrations.AddIndex(
            model_name='message',
            index=models.Index(condition=models.Q(('answer__isnull', False), ('conversation__isnull', True), ('direction', 'inbound'), ('phone_number__isnull', False)), fields=['id'], name='message_unthreaded'),
        ),
        drop_like_indexes("phones_message", ("provider_sid", "public_id")),
        drop_like_indexes("phones_conversation", ("public_id",)),
    ]
