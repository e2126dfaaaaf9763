"""GET /billing/usage?campaignId=: the traffic stamped with a number's configuration.tracking."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from billing.models import UsageRecord
from billing.services import Usage, usage_record_many
from core.errors import InvalidInput
from phones.models import Call, Message
from tests.billing.conftest import make_number

STAMP = {"campaignId": "spring-2026", "source": "billboard"}


def _message(number, direction, sid, tracking, segments=1, at=None):
    return Message.objects.create(org=number.org, phone_number=number, direction=direction, from_number="+1",
                                  to_number="+2", provider_sid=sid, segments=segments, tracking=tracking,
                                  created_at=at or timezone.now())


def _call(number, direction, sid, tracking, status="completed", duration=None):
    return Call.objects.create(org=number.org, phone_number=number, direction=direction, from_number="+1",
                               to_number="+2", provider_sid=sid, status=status, duration=duration,
                               tracking=tracking)


def test_usage_by_campaign_counts_only_that_campaigns_traffic(owner_api, org, other_org):
    number = make_number(org)
    _message(number, "inbound", "SM1", STAMP, segments=2)
    _message(number, "outbound", "SM2", STAMP, segments=3)
    _message(number, "outbound", "SM3", {"campaignId": "autumn"})
    _message(number, "outbound", "SM4", {})
    _call(number, "inbound", "CA1", STAMP, duration=61)   # 2 minutes
    _call(number, "outbound", "CA2", STAMP, duration=30)  # 1 minute
    _call(number, "inbound", "CA3", STAMP, status="no-answer")
    _call(number, "inbound", "CA4", {"campaignId": "autumn"}, duration=600)
    _message(make_number(other_org), "inbound", "SM5", STAMP)  # another org's campaign of the same name

    response = owner_api.get("/billing/usage", {"campaignId": "spring-2026"})
    assert response.status_code == 200, response.json()
    assert response.json() == {"campaignId": "spring-2026", "period": None,
                               "messages": {"inbound": 1, "outbound": 1, "segments": 5},
                               "calls": {"inbound": 2, "outbound": 1, "minutes": 3}}


def test_usage_by_campaign_within_a_month(owner_api, org):
    number = make_number(org)
    _message(number, "inbound", "SM1", STAMP, at=datetime(2026, 3, 10, 12, tzinfo=UTC))
    _message(number, "inbound", "SM2", STAMP, at=datetime(2026, 4, 2, 12, tzinfo=UTC))
    body = owner_api.get("/billing/usage", {"campaignId": "spring-2026", "period": "2026-03"}).json()
    assert (body["period"], body["messages"]["inbound"]) == ("2026-03", 1)


def test_usage_needs_a_campaign_and_an_admin(owner_api, member_api):
    assert owner_api.get("/billing/usage").status_code == 400
    assert owner_api.get("/billing/usage", {"campaignId": "x", "period": "2026-13"}).status_code == 400
    assert member_api.get("/billing/usage", {"campaignId": "x"}).status_code == 403


@pytest.mark.parametrize("period", ["0000-01", "9999-12"])
def test_a_period_outside_the_calendar_is_a_400_not_a_500(owner_api, period):
    # Found by schemathesis (tests/deploy/test_schemathesis.py): year 0 and the month after 9999-12 do not exist.
    response = owner_api.get("/billing/usage", {"campaignId": "spring", "period": period})
    assert response.status_code == 400 and response.json()["error"]["field"] == "period"


@pytest.mark.django_db
@pytest.mark.parametrize("kind, quantity, period", [
    ("not-a-kind", 1, datetime(2026, 5, 1, tzinfo=UTC).date()),
    ("sms_segment", 0, datetime(2026, 5, 1, tzinfo=UTC).date()),
    ("sms_segment", "2", datetime(2026, 5, 1, tzinfo=UTC).date()),
    ("sms_segment", 1, datetime(2026, 5, 1, tzinfo=UTC)),  # a datetime, not the period's date
])
def test_usage_record_many_refuses_a_bad_record_and_records_none(org, kind, quantity, period):
    good = Usage(org.pk, None, "sms_segment", 1, datetime(2026, 5, 1, tzinfo=UTC).date(), "sms:good")
    with pytest.raises(InvalidInput):
        usage_record_many([good, Usage(org.pk, None, kind, quantity, period, "sms:bad")])
    assert not UsageRecord.objects.filter(org=org).exists()
    usage_record_many([good, good])  # a key already recorded is left as it is
    assert UsageRecord.objects.filter(org=org, key="sms:good").count() == 1
