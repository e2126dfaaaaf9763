"""Plivo's API facts we depend on (https://www.plivo.com/docs/, API v1).

Plivo answers a refusal with its HTTP status and a JSON body `{"api_id": ..., "error": ...}`:
there is no error-code catalogue as Twilio has, so the status decides what retrying would do
(400 a bad parameter, 401 bad credentials, 404 no such resource, 429 rate limited, 5xx theirs).
"""

PROVIDER_NAME = "plivo"
API_BASE = "https://api.plivo.com"

# Every list endpoint pages with limit/offset and refuses a limit above 20.
MAX_PAGE_SIZE = 20

# Applications are looked up by name across this many pages before one is created: an account
# with more than 400 applications is not one we can manage by listing.
MAX_APPLICATION_PAGES = 20

# The application numbers are attached to is named for us and for the webhook URLs it carries
# (Plivo allows letters, digits, '-' and '_' in a name).
APPLICATION_NAME_PREFIX = "phone-platform"

# Plivo's `type` filter on the number search.
SEARCH_TYPES = {"local": "local", "tollFree": "tollfree", "mobile": "mobile"}

# A purchase of a number that needs the buyer's verification is accepted as "pending".
PURCHASE_FULFILLED = "fulfilled"

SIGNATURE_HEADER = "X-Plivo-Signature-V3"
NONCE_HEADER = "X-Plivo-Signature-V3-Nonce"

# Our own codes: Plivo sends none (authentication_failed and not_found are json_http's).
INVALID_REQUEST = "invalid_request"
RATE_LIMITED = "rate_limited"
SERVER_ERROR = "server_error"
PURCHASE_PENDING = "purchase_pending"
