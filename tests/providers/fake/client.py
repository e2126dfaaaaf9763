"""A minimal provider: a few numbers for sale, kept in memory per account."""
from __future__ import annotations

from typing import Any

from providers.base import (
    AccountInfo,
    AvailableNumber,
    MessagingService,
    OwnedPage,
    PhoneProvider,
    PlacedCall,
    ProviderError,
    ProvisionedNumber,
    SearchCriteria,
    SentMessage,
    Webhooks,
)

FOR_SALE = ("+14155550101", "+14155550102")
OWNED: dict[str, dict[str, ProvisionedNumber]] = {}


class FakeProvider(PhoneProvider):
    def __init__(self, *, account: str, secret: str) -> None:
        self.account, self.secret = account, secret

    def validate_credentials(self) -> AccountInfo:
        if self.secret != "right":
            raise ProviderError("bad credentials", code="auth", permanent=True, provider="fake")
        return AccountInfo(account_id=self.account)

    def search_available(self, criteria: SearchCriteria) -> list[AvailableNumber]:
        return [AvailableNumber(e164=e164, friendly_name=e164, country="US", locality="San Francisco")
                for e164 in FOR_SALE if e164 not in OWNED.get(self.account, {})][:criteria.limit]

    def purchase(self, e164: str, webhooks: Webhooks, *, friendly_name: str = "") -> ProvisionedNumber:
        number = ProvisionedNumber(sid=f"FN{e164[1:]}", e164=e164, friendly_name=friendly_name,
                                   voice_url=webhooks.voice_url, sms_url=webhooks.sms_url,
                                   status_callback=webhooks.status_callback)
        OWNED.setdefault(self.account, {})[e164] = number
        return number

    def find_owned(self, e164: str) -> ProvisionedNumber | None:
        return OWNED.get(self.account, {}).get(e164)

    def list_owned(self, page: str | None = None, page_size: int = 1000) -> OwnedPage:
        return OwnedPage(numbers=list(OWNED.get(self.account, {}).values()), next_page=None)

    def list_messaging_services(self) -> list[MessagingService]:
        return []

    def configure_webhooks(self, sid: str, webhooks: Webhooks, *, friendly_name: str | None = None
                           ) -> ProvisionedNumber:
        number = next(n for n in OWNED.get(self.account, {}).values() if n.sid == sid)
        return self.purchase(number.e164, webhooks, friendly_name=friendly_name or number.friendly_name)

    def release(self, sid: str) -> None:
        owned = OWNED.get(self.account, {})
        for e164 in [e164 for e164, number in owned.items() if number.sid == sid]:
            del owned[e164]

    def send_sms(self, **kwargs: Any) -> SentMessage:
        raise ProviderError("this provider sends no texts", code="unsupported", permanent=True, provider="fake")

    def make_call(self, **kwargs: Any) -> PlacedCall:
        raise ProviderError("this provider places no calls", code="unsupported", permanent=True, provider="fake")

    def validate_webhook(self, request: Any, url: str) -> bool:
        return False
