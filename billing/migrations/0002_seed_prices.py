from django.db import migrations

# Minor units (cents), USD: what Twilio lists for these numbers, rounded.
DEFAULT_PRICES = [
    ("US", "local", 0, 115),
    ("US", "tollFree", 0, 215),
    ("US", "mobile", 0, 115),
    ("CA", "local", 0, 115),
    ("CA", "tollFree", 0, 215),
    ("CA", "mobile", 0, 115),
    ("GB", "local", 0, 115),
    ("GB", "tollFree", 100, 215),
    ("GB", "mobile", 0, 115),
]


def seed(apps, schema_editor):
    Price = apps.get_model("billing", "Price")
    for country, number_type, setup_fee, monthly_fee in DEFAULT_PRICES:
        Price.objects.get_or_create(
            country=country, number_type=number_type,
            defaults={"setup_fee": setup_fee, "monthly_fee": monthly_fee, "currency": "USD"},
        )


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
