"""Recordings get a public id (existing rows are given one here), their number and provider
connection (filled in from their call where it is known), and the last failed provider delete."""
import django.db.models.deletion
from django.db import migrations, models

import core.ids


def _checks_now(schema_editor):
    """PostgreSQL: foreign keys checked as each row is written, not at commit, so no trigger events
    are left pending for the ALTER TABLE / CREATE INDEX that follow in this transaction."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def fill_public_ids(apps, schema_editor):
    _checks_now(schema_editor)
    Recording = apps.get_model("phones", "Recording")
    for recording in Recording.objects.filter(public_id="").iterator():
        recording.public_id = core.ids.new_public_id("rec")
        recording.save(update_fields=["public_id"])


def fill_numbers(apps, schema_editor):
    _checks_now(schema_editor)
    Recording = apps.get_model("phones", "Recording")
    for recording in Recording.objects.filter(call__phone_number__isnull=False).select_related(
            "call__phone_number").iterator():
        number = recording.call.phone_number
        recording.phone_number_id, recording.connection_id = number.pk, number.connection_id
        recording.save(update_fields=["phone_number", "connection"])


class Migration(migrations.Migration):

    dependencies = [
        ("phones", "0012_sip_trunks"),
        ("telephony", "0008_org_recording_retention"),
    ]

    operations = [
        migrations.AddField(
            model_name="recording",
            name="connection",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="recordings", to="telephony.providerconnection"),
        ),
        migrations.AddField(
            model_name="recording",
            name="delete_error",
            field=models.CharField(blank=True, max_length=500),
        ),
        migrations.AddField(
            model_name="recording",
            name="phone_number",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="recordings", to="phones.phonenumber"),
        ),
        migrations.AddField(
            model_name="recording",
            name="public_id",
            field=models.CharField(default="", editable=False, max_length=32),
            preserve_default=False,
        ),
        migrations.RunPython(fill_public_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="recording",
            name="public_id",
            field=core.ids.PublicIdField(editable=False, max_length=32, unique=True),
        ),
        migrations.AddIndex(
            model_name="recording",
            index=models.Index(fields=["org", "-created_at"], name="recording_org_created"),
        ),
        migrations.RunPython(fill_numbers, migrations.RunPython.noop),
    ]
