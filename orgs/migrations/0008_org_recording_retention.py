from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("telephony", "0007_org_softphone_countries"),
    ]

    operations = [
        migrations.AddField(
            model_name="org",
            name="recording_retention_days",
            field=models.PositiveIntegerField(
                blank=True, null=True,
                help_text="Call recordings older than this many days are deleted, at the provider too "
                          "(phones.recordings, by beat). Empty: kept until deleted."),
        ),
    ]
