"""Prices for every country the provider sells: staff import the provider's number prices (Twilio
Pricing v1, served by the sandbox) into the price table with a markup, by command or admin page;
the price table stays what billing charges."""
from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from billing.models import LedgerEntry, Price
from billing.pricing import minor_units, prices_import, with_markup
from billing.services import balance_get, ledger_topup
from core.errors import InvalidInput
from orgs.models import AuditLog
from orgs.services import connection_create
from phones.models import PhoneNumber
from providers.base import SearchCriteria
from providers.registry import provider_for
from sandbox.models import SandboxNumber
from tests.conftest import make_user
from tests.phones.conftest import buy

pytestmark = pytest.mark.django_db

IMPORT_URL = "/admin/billing/price/import/"


@pytest.fixture
def sandbox(org):
    return connection_create(org=org, type_="sandbox-provider", name="Sandbox", credentials={})


@pytest.fixture
def staff(db):
    return make_user("root", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    def run(call):
        with django_capture_on_commit_callbacks(execute=True):
            return call()
    return run


def prices(country: str) -> dict[str, tuple[int, int, int, str]]:
    return {p.number_type: (p.setup_fee, p.monthly_fee, p.provider_cost, p.currency)
            for p in Price.objects.filter(country=country)}


def test_an_import_writes_each_number_type_with_the_markup_rounded_up(sandbox):
    result = prices_import(connection=sandbox, countries=["DE"], markup=Decimal("12.5"))
    # Germany: local 1.00, mobile 15.00, toll free 20.00; 12.5 % on 100 is 112.5 → 113.
    assert prices("DE") == {"local": (0, 113, 100, "USD"), "mobile": (0, 1688, 1500, "USD"),
                            "tollFree": (0, 2250, 2000, "USD")}
    assert len(result.created) == 3 and not result.updated
    assert result.skipped == ["DE national: a number type not sold here"]
    row = Price.objects.get(country="DE", number_type="local")
    assert row.markup_percent == Decimal("12.5") and row.imported_at is not None
    assert AuditLog.objects.filter(action="billing.price_import").count() == 3


def test_a_discounted_price_is_imported_at_what_the_provider_charges_now(sandbox):
    prices_import(connection=sandbox, countries="FR", markup=Decimal(0))
    assert prices("FR")["mobile"] == (0, 180, 180, "USD")  # base 2.00, current 1.80


def test_a_reimport_keeps_the_setup_fee_and_changes_only_what_changed(sandbox):
    Price.objects.filter(country="GB", number_type="tollFree").update(setup_fee=100, monthly_fee=999)
    result = prices_import(connection=sandbox, countries=["GB"], markup=Decimal(20))
    assert prices("GB") == {"local": (0, 138, 115, "USD"), "mobile": (0, 138, 115, "USD"),
                            "tollFree": (100, 258, 215, "USD")}
    assert (len(result.created), len(result.updated)) == (0, 3)
    again = prices_import(connection=sandbox, countries=["GB"], markup=Decimal(20))
    assert (len(again.updated), len(again.unchanged)) == (0, 3)


def test_every_country_the_provider_prices(sandbox):
    result = prices_import(connection=sandbox, countries=None, markup=Decimal(0))
    assert {p.country for p in result.written + result.unchanged} >= {"AU", "DE", "FR", "JP", "MX", "SE", "US"}
    assert prices("JP") == {"local": (0, 450, 450, "USD"), "tollFree": (0, 2200, 2200, "USD")}


def test_a_country_the_provider_does_not_price_is_reported_and_nothing_else_changes(sandbox):
    result = prices_import(connection=sandbox, countries=["ZZ", "SE"], markup=Decimal(0))
    assert result.skipped == ["ZZ: the provider prices no numbers there"]
    assert set(prices("SE")) == {"local", "mobile"}


def test_a_dry_run_writes_nothing(sandbox):
    before = list(Price.objects.values_list("country", "number_type", "monthly_fee"))
    result = prices_import(connection=sandbox, countries=["DE", "US"], markup=Decimal(50), dry_run=True)
    assert len(result.created) == 3 and len(result.updated) == 2
    assert list(Price.objects.values_list("country", "number_type", "monthly_fee")) == before
    assert not AuditLog.objects.exists()


@pytest.mark.parametrize(("countries", "markup", "field"), [
    (["D"], "10", "countries"), (["DEU"], "10", "countries"), ([], "10", "countries"),
    (["DE"], "-1", "markup"), (["DE"], "1000.01", "markup"), (["DE"], "abc", "markup"), (["DE"], "1.234", "markup"),
    (["DE"], "NaN", "markup"),
])
def test_bad_input_is_refused_and_writes_nothing(sandbox, countries, markup, field):
    with pytest.raises(InvalidInput) as refused:
        prices_import(connection=sandbox, countries=countries, markup=markup)
    assert refused.value.field == field
    assert not Price.objects.filter(country="DE").exists()


def test_rounding_is_up_to_the_minor_unit():
    assert [minor_units(p) for p in ("1.00", "1.005", "0.0", "15", "2.5")] == [100, 101, 0, 1500, 250]
    assert with_markup(115, Decimal(20)) == 138 and with_markup(100, Decimal("0.01")) == 101
    with pytest.raises(InvalidInput):
        minor_units("-1.00")


def test_the_imported_price_is_what_a_purchase_charges(owner_api, on_commit, sandbox, org):
    """Before the import an Australian number cannot be bought (no_price); after it, the hold is the
    imported monthly fee and the sandbox has the number."""
    ledger_topup(org=org, amount=10_000, reason="test funds")
    e164 = provider_for(sandbox).search_available(SearchCriteria(country="AU", number_type="mobile", limit=1))[0].e164
    refused = buy(owner_api, on_commit, e164)
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "no_price")
    prices_import(connection=sandbox, countries=["AU"], markup=Decimal(10))
    search = owner_api.get("/phone/available", {"countryCode": "AU", "type": "mobile", "limit": 3}).json()
    assert {n["pricing"]["monthlyFee"] for n in search["numbers"]} == {715}  # 6.50 + 10 %
    response = buy(owner_api, on_commit, e164)
    assert response.status_code == 202, response.json()
    assert response.json()["transaction"]["amount"] == 715
    assert PhoneNumber.objects.get(e164=e164).status == "active"
    assert SandboxNumber.objects.filter(phone_number=e164, account__sid=sandbox.account_id).exists()
    assert LedgerEntry.objects.get(kind="purchase_hold").amount == -715
    assert balance_get(org=org).balance == 10_000 - 715


class TestCommand:
    def run(self, *args) -> str:
        out = StringIO()
        call_command("import_prices", *args, stdout=out)
        return out.getvalue()

    def test_it_imports_and_prints_each_row(self, sandbox):
        out = self.run("--connection", sandbox.public_id, "--country", "SE", "--markup", "20")
        assert "created  SE local     1.20 USD/month (provider 1.00 USD + 20.00%)" in out
        assert "created  SE mobile    3.60 USD/month (provider 3.00 USD + 20.00%)" in out
        assert out.strip().endswith("2 created, 0 updated, 0 unchanged")
        assert prices("SE") == {"local": (0, 120, 100, "USD"), "mobile": (0, 360, 300, "USD")}

    def test_a_dry_run_says_so_and_writes_nothing(self, sandbox):
        out = self.run("--connection", sandbox.public_id, "--all", "--markup", "0", "--dry-run")
        assert "Dry run, nothing written" in out and "skipped  ES shared cost: a number type not sold here" in out
        assert not Price.objects.filter(country="ES").exists()

    @pytest.mark.parametrize("args", [
        ("--connection", "int_nope", "--country", "SE", "--markup", "20"),
        ("--country", "SE", "--markup", "abc"),
        ("--country", "SEE", "--markup", "20"),
    ])
    def test_bad_arguments_are_errors(self, sandbox, args):
        if args[0] != "--connection":
            args = ("--connection", sandbox.public_id, *args)
        with pytest.raises(CommandError):
            self.run(*args)
        assert not Price.objects.filter(country="SE").exists()


class TestAdmin:
    def test_the_price_list_links_to_the_import_page(self, staff_client):
        page = staff_client.get("/admin/billing/price/")
        assert IMPORT_URL in page.content.decode()

    def test_staff_import_with_a_markup(self, staff_client, staff, sandbox):
        response = staff_client.post(IMPORT_URL, {"connection": sandbox.pk, "countries": "de, mx",
                                                  "markup": "10"}, follow=True)
        assert response.status_code == 200
        assert "Prices imported: 5 created, 0 updated, 0 unchanged" in response.content.decode()
        assert prices("MX") == {"local": (0, 468, 425, "USD"), "tollFree": (0, 3300, 3000, "USD")}
        assert AuditLog.objects.filter(action="billing.price_import", actor=staff).count() == 5

    def test_a_dry_run_shows_the_rows_and_writes_nothing(self, staff_client, sandbox):
        response = staff_client.post(IMPORT_URL, {"connection": sandbox.pk, "countries": "MX", "markup": "10",
                                                  "dry_run": "on"})
        assert response.status_code == 200 and "Dry run" in response.content.decode()
        assert len(response.context["result"].created) == 2
        assert not Price.objects.filter(country="MX").exists()

    @pytest.mark.parametrize("fields", [{"countries": "Mexico"}, {"markup": "-5"}, {"markup": "1e9"},
                                        {"connection": "999999"}])
    def test_bad_input_shows_the_form_again(self, staff_client, sandbox, fields):
        response = staff_client.post(IMPORT_URL, {"connection": sandbox.pk, "countries": "MX", "markup": "10",
                                                  **fields})
        assert response.status_code == 200 and response.context["form"].errors
        assert not Price.objects.filter(country="MX").exists()

    def test_the_reimport_action_opens_the_form_with_the_selected_countries(self, staff_client):
        rows = Price.objects.filter(country__in=["GB", "CA"]).values_list("pk", flat=True)
        response = staff_client.post("/admin/billing/price/", {"action": "reimport",
                                                               "_selected_action": list(rows)})
        assert response.status_code == 302 and response["Location"] == f"{IMPORT_URL}?countries=CA%2CGB"
        form = staff_client.get(response["Location"])
        assert form.context["form"].initial["countries"] == "CA,GB"

    def test_staff_without_the_price_permissions_cannot_import(self, org, sandbox):
        client = Client()
        client.force_login(make_user("clerk", is_staff=True))
        assert client.get(IMPORT_URL).status_code == 403
