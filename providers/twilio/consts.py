"""Twilio's error codes, sorted by what retrying them would do.

Twilio answers a refusal with a JSON body carrying its own `code`
(https://www.twilio.com/docs/api/errors). The HTTP status alone is not enough:
20429 is a rate limit sent as 429, and a 404 on a phone number we try to buy is
21422, not "try again later".
"""

PROVIDER_NAME = "twilio"

# Every other refusal (a 4xx: 20003 bad credentials, 21211 invalid 'To', 21422 number not
# available, 21610 recipient unsubscribed …) fails the same way however often it is repeated.

# May succeed later, although some are sent as 4xx: retried with backoff.
TRANSIENT_CODES: frozenset[int] = frozenset({
    20429,  # too many requests
    20500,  # internal server error
    20503,  # service unavailable
    21611,  # 'From' has too many queued messages; drains over time
})

AUTHENTICATION_FAILED = 20003
