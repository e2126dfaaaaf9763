"""What is checked, removed, counted and held before anything is sent."""
from __future__ import annotations

import pytest

from billing.models import LedgerEntry
from billing.services import balance_get
from core.segments import segment_count
from phones.broadcasts.models import Broadcast, BroadcastRecipient
from phones.messaging.services import OPT_OUT_LANGUAGE, opt_out_record
from phones.models import Contact
from sandbox.models import SandboxMessage

NY, LA, VANCOUVER, LONDON = "+12125550123", "+13105550123", "+16045550123", "+442079460018"


def test_invalid_rows_are_reported_by_row_and_duplicates_merged(create):
    response = create([NY, "not a number", "(310) 555-0123", NY, "+1 212 555 0123", "+1555", ""])
    assert response.status_code == 201, response.json()
    checks = response.json()["checks"]
    assert checks["rows"] == 7
    assert checks["recipients"] == 2
    assert checks["duplicatesMerged"] == 2
    assert checks["invalid"] == 3
    assert [row["row"] for row in checks["invalidRows"]] == [2, 6, 7]
    assert sorted(BroadcastRecipient.objects.values_list("e164", flat=True)) == [NY, LA]
    assert not SandboxMessage.objects.exists()  # nothing sent by creating it (the tests run the batches)


def test_a_csv_names_its_bad_rows_and_fills_the_template_from_its_columns(create):
    csv = "Phone,First Name,City\n+12125550123,Ann,New York\nbanana,Bob,Nowhere\n3105550123,Cy,LA\n"
    response = create(csv=csv, body="Hi {{firstName}} in {{city}}!")
    assert response.status_code == 201, response.json()
    assert response.json()["checks"]["invalidRows"] == [
        {"row": 2, "value": "banana", "error": "not a phone number (The string supplied did not seem to be a "
                                               "phone number.)"}]
    bodies = dict(BroadcastRecipient.objects.values_list("e164", "body"))
    assert bodies[NY] == f"Hi Ann in New York!\n{OPT_OUT_LANGUAGE}"
    assert bodies[LA] == f"Hi Cy in LA!\n{OPT_OUT_LANGUAGE}"


def test_a_csv_without_a_phone_column_is_a_400_and_nothing_is_held(create, org):
    before = balance_get(org=org).balance
    response = create(csv="name,email\nAnn,a@example.com\n")
    assert response.status_code == 400
    assert "phone column" in response.json()["error"]["message"]
    assert not Broadcast.objects.exists()
    assert balance_get(org=org).balance == before


def test_the_contacts_with_a_tag_are_the_recipients(create, org):
    Contact.objects.create(org=org, e164=NY, first_name="Ann", tags=["vip"])
    Contact.objects.create(org=org, e164=LA, first_name="Bo", tags=["other"])
    response = create(tag="vip", body="Hi {{firstName}}")
    assert response.status_code == 201, response.json()
    assert list(BroadcastRecipient.objects.values_list("e164", "body")) == [(NY, f"Hi Ann\n{OPT_OUT_LANGUAGE}")]


def test_opted_out_recipients_are_removed_and_counted(create, org):
    opt_out_record(org=org, e164=LA, keyword="STOP", number=None)
    response = create([NY, LA])
    assert response.status_code == 201
    assert response.json()["checks"]["optedOutRemoved"] == 1
    assert list(BroadcastRecipient.objects.values_list("e164", flat=True)) == [NY]


def test_opt_out_language_is_added_for_us_and_canada_only_and_only_when_missing(create):
    assert create([NY, VANCOUVER, LONDON]).status_code == 201
    bodies = dict(BroadcastRecipient.objects.values_list("e164", "body"))
    assert bodies[NY] == bodies[VANCOUVER] == f"Spring sale: 20% off\n{OPT_OUT_LANGUAGE}"
    assert bodies[LONDON] == "Spring sale: 20% off"
    Broadcast.objects.all().delete()
    assert create([NY], body="Sale! Text STOP to end").status_code == 201
    assert BroadcastRecipient.objects.get().body == "Sale! Text STOP to end"


@pytest.mark.parametrize(("body", "encoding", "segments", "culprit"), [
    ("a" * 160, "GSM-7", 1, None),
    ("a" * 161, "GSM-7", 2, None),          # split: 153 septets a part
    ("a" * 306, "GSM-7", 2, None),
    ("a" * 307, "GSM-7", 3, None),
    ("€" * 80, "GSM-7", 1, None),           # the extension set takes two septets each
    ("€" * 81, "GSM-7", 2, None),
    ("a" * 69 + "\xa0", "UCS-2", 1, "U+00A0 (no-break space)"),
    ("a" * 70 + "\xa0", "UCS-2", 2, "U+00A0 (no-break space)"),
    ("It’s on", "UCS-2", 1, "U+2019 (right single quotation mark)"),
    ("😀" * 35, "UCS-2", 1, "U+1F600 (grinning face)"),  # two UTF-16 units each
    ("😀" * 36, "UCS-2", 2, "U+1F600 (grinning face)"),
])
def test_segments_are_counted_as_carriers_count_them(body, encoding, segments, culprit):
    count = segment_count(body)
    assert (count.encoding, count.segments, count.non_gsm_name or None) == (encoding, segments, culprit)


def test_one_curly_quote_doubles_the_cost_and_the_answer_says_which_character(create, org):
    plain = "Your order is ready. " * 3 + "Come by"  # 70 characters + the opt-out line: one GSM-7 SMS
    first = create([NY], body=plain, **{"name": "plain"}).json()
    curly = create([LA], body=plain.replace("Come by", "We’re open"), name="curly").json()
    assert (first["segments"]["encoding"], first["segments"]["total"], first["segments"]["nonGsmCharacter"]) == (
        "GSM-7", 1, None)
    assert (curly["segments"]["encoding"], curly["segments"]["total"]) == ("UCS-2", 2)
    assert curly["segments"]["nonGsmCharacter"] == "U+2019 (right single quotation mark)"
    assert curly["cost"]["estimated"] == 2 * first["cost"]["estimated"]


def test_the_estimate_is_held_from_the_balance(create, org):
    before = balance_get(org=org).balance
    response = create([NY, LA, VANCOUVER], body="x" * 200)  # two segments each
    assert response.status_code == 201
    assert response.json()["cost"]["estimated"] == 6
    hold = LedgerEntry.objects.get(key=f"broadcast-hold:{response.json()['id']}")
    assert hold.amount == -6
    assert balance_get(org=org).balance == before - 6


def test_media_is_priced_per_message(create, settings):
    response = create([NY, LA], mediaUrl=["https://example.com/a.png"])
    assert response.status_code == 201
    assert response.json()["cost"]["estimated"] == 2 * settings.MMS_MESSAGE_PRICE


def test_a_short_balance_is_a_402_and_nothing_is_kept(create, org, settings):
    settings.SMS_SEGMENT_PRICE = 5000
    before = balance_get(org=org).balance
    response = create([NY, LA, VANCOUVER])
    assert response.status_code == 402
    assert response.json()["error"]["code"] == "insufficient_balance"
    assert not Broadcast.objects.exists() and not BroadcastRecipient.objects.exists()
    assert balance_get(org=org).balance == before


@pytest.mark.parametrize("window", [{"start": "07:00", "end": "20:00"}, {"start": "09:00", "end": "22:00"},
                                    {"start": "12:00", "end": "10:00"}])
def test_quiet_hours_outside_what_the_tcpa_allows_are_a_400(create, window):
    response = create([NY], quietHours=window)
    assert response.status_code == 400
    assert "08:00–21:00" in response.json()["error"]["message"]
    assert not Broadcast.objects.exists()


def test_no_valid_recipient_is_a_400(create):
    response = create(["nope", "+1555"])
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "no_recipients"


@pytest.mark.parametrize("body", [
    {"recipients": [{"phone": NY}], "csv": "phone\n+12125550123"},
    {},
])
def test_exactly_one_recipient_source(create, body):
    response = create(**body)
    assert response.status_code == 400
