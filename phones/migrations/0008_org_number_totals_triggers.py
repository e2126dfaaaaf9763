"""PostgreSQL triggers that keep phones_orgnumbertotals exact.

Statement-level with transition tables: a bulk UPDATE of 10,000 numbers (renewals) makes
one aggregated upsert per (org, status), not 10,000. Counts are subtracted for the old rows
and added for the new ones; rows that reach zero stay (harmless, and avoids churn).
"""
from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION phones_totals_apply() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO phones_orgnumbertotals (org_id, status, count, monthly_fee)
        SELECT org_id, status, -COUNT(*), -COALESCE(SUM(monthly_fee), 0) FROM old_rows GROUP BY org_id, status
        ON CONFLICT (org_id, status) DO UPDATE
            SET count = phones_orgnumbertotals.count + EXCLUDED.count,
                monthly_fee = phones_orgnumbertotals.monthly_fee + EXCLUDED.monthly_fee;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO phones_orgnumbertotals (org_id, status, count, monthly_fee)
        SELECT org_id, status, COUNT(*), COALESCE(SUM(monthly_fee), 0) FROM new_rows GROUP BY org_id, status
        ON CONFLICT (org_id, status) DO UPDATE
            SET count = phones_orgnumbertotals.count + EXCLUDED.count,
                monthly_fee = phones_orgnumbertotals.monthly_fee + EXCLUDED.monthly_fee;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""

TRIGGERS = """
CREATE TRIGGER phones_totals_insert AFTER INSERT ON phones_phonenumber
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION phones_totals_apply();
CREATE TRIGGER phones_totals_update AFTER UPDATE ON phones_phonenumber
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION phones_totals_apply();
CREATE TRIGGER phones_totals_delete AFTER DELETE ON phones_phonenumber
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION phones_totals_apply();
"""

BACKFILL = """
DELETE FROM phones_orgnumbertotals;
INSERT INTO phones_orgnumbertotals (org_id, status, count, monthly_fee)
SELECT org_id, status, COUNT(*), COALESCE(SUM(monthly_fee), 0) FROM phones_phonenumber GROUP BY org_id, status;
"""

DROP = """
DROP TRIGGER IF EXISTS phones_totals_insert ON phones_phonenumber;
DROP TRIGGER IF EXISTS phones_totals_update ON phones_phonenumber;
DROP TRIGGER IF EXISTS phones_totals_delete ON phones_phonenumber;
DROP FUNCTION IF EXISTS phones_totals_apply();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION + TRIGGERS + BACKFILL)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("phones", "0007_org_number_totals")]
    operations = [migrations.RunPython(forwards, backwards)]
