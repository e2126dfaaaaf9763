"""A signature must cover the body that is acted on: Plivo's V3 signs form fields, so a JSON body
(which it would not cover) is refused; Telnyx signs the raw body, so any change to it is refused."""
from __future__ import annotations

import base64
import json

from phones.models import Message
from providers.plivo.client import signature_v3
from tests.webhooks.conftest import PUBLIC
from tests.webhooks.test_plivo import AUTH_TOKEN, CALLER, OUR, plivo_number  # noqa: F401 - a fixture
from tests.webhooks.test_security import nothing_written
from tests.webhooks.test_telnyx import telnyx, telnyx_number  # noqa: F401 - fixtures


def test_plivo_refuses_a_json_body_its_signature_does_not_cover(client, plivo_number):  # noqa: F811
    path = "/connect/webhook/plivo/sms"
    nonce = base64.b64encode(b"12345678901234567890").decode()
    # Signed as a POST with no form fields: the URL alone.
    signature = signature_v3(AUTH_TOKEN, "POST", f"{PUBLIC}{path}", nonce, {})
    body = json.dumps({"From": CALLER[1:], "To": OUR[1:], "Type": "sms", "Text": "STOP", "MessageUUID": "u-1"})
    response = client.post(path, body, content_type="application/json", HTTP_X_PLIVO_SIGNATURE_V3=signature,
                           HTTP_X_PLIVO_SIGNATURE_V3_NONCE=nonce)
    assert response.status_code == 403
    assert nothing_written()


def test_plivo_deep_json_is_a_400(client, plivo_number):  # noqa: F811
    response = client.post("/connect/webhook/plivo/sms", '{"a":' * 5000, content_type="application/json")
    assert response.status_code == 400
    assert nothing_written()


def test_telnyx_deep_json_is_a_400_and_a_signed_event_still_answers(telnyx, telnyx_number):  # noqa: F811
    assert telnyx._send("/connect/webhook/telnyx/sms", b'{"a":' * 5000, "application/json").status_code == 400
    signed = telnyx.received("hello")
    assert signed.status_code == 204
    assert Message.objects.count() == 1
