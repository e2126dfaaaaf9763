"""Telnyx's API facts we depend on (https://developers.telnyx.com/, API v2).

Telnyx answers a refusal with `{"errors": [{"code": "10009", "title": ..., "detail": ...}]}`;
the HTTP status says what retrying would do (401/403 credentials, 404 not found, 422 refused,
429 rate limited, 5xx theirs) and the first error's code and detail say why.
"""

PROVIDER_NAME = "telnyx"
API_BASE = "https://api.telnyx.com/v2"

# /phone_numbers pages with page[number]/page[size]; Telnyx caps page[size] at 250.
MAX_PAGE_SIZE = 250

# Telnyx's `filter[phone_number_type]` on the number search.
SEARCH_TYPES = {"local": "local", "tollFree": "toll_free", "mobile": "mobile"}

# Number orders are asynchronous: the order, and each number in it, go pending → success/failure.
ORDER_PENDING = "pending"
ORDER_SUCCESS = "success"
# How long a purchase waits for its order, and how often it looks. An order still pending then
# is reported as outcome_unknown: the job retries, finds the pending order by its customer
# reference and waits for it again instead of ordering twice.
ORDER_WAIT_SECONDS = 20.0
ORDER_POLL_SECONDS = 2.0
ORDER_REFERENCE_PREFIX = "phone-platform"

# Webhooks are signed with the account's Ed25519 key over "<timestamp>|<raw body>".
SIGNATURE_HEADER = "telnyx-signature-ed25519"
TIMESTAMP_HEADER = "telnyx-timestamp"
SIGNATURE_TOLERANCE_SECONDS = 300

# Our own codes for failures Telnyx did not describe (authentication_failed and not_found are json_http's).
NOT_CONFIGURED = "not_configured"
ORDER_FAILED = "order_failed"
ORDER_STILL_PENDING = "order_pending"

# A TeXML <Stream> that plays what we send back as RTP in PCMU (μ-law 8 kHz, as the AI speaks it);
# Telnyx's default bidirectional mode is MP3 files.
STREAM_ATTRIBUTES = {"bidirectionalMode": "rtp", "bidirectionalCodec": "PCMU"}
