"""Twilio's error codes, sorted by what retrying them would do.

Twilio answers a refusal with a JSON body carrying its own `code`
(https://www.twilio.com/docs/api/errors). The HTTP status alone is not enough:
20429 is a rate limit sent as 429, and a 404 on a phone number we try to buy is
21422, not "try again later".
"""

PROVIDER_NAME = "twilio"

# Fail the same way however often they are repeated: never retried.
PERMANENT_CODES: frozenset[int] = frozenset({
    20003,  # authentication failed (wrong SID/token, or key of another account)
    20404,  # the resource does not exist
    21211,  # invalid 'To' number
    21212,  # invalid 'From' number
    21214,  # 'To' cannot be reached
    21215,  # geo permissions do not allow the call
    21216,  # account not allowed to call this number
    21217,  # 'To' does not appear to be valid
    21408,  # SMS to this region not enabled
    21421,  # PhoneNumber is invalid
    21422,  # PhoneNumber is not available
    21452,  # no phone numbers found in the area code
    21606,  # 'From' not owned by the account or not SMS-capable
    21610,  # recipient unsubscribed (replied STOP)
    21612,  # Twilio cannot route to this number
    21614,  # 'To' is not a mobile number
})

# May succeed later: retried with backoff.
TRANSIENT_CODES: frozenset[int] = frozenset({
    20429,  # too many requests
    20500,  # internal server error
    20503,  # service unavailable
    21611,  # 'From' has too many queued messages; drains over time
})

AUTHENTICATION_FAILED = 20003
NOT_FOUND = 20404

# Our own codes for failures that never produced a Twilio answer.
TIMEOUT = "timeout"
CONNECTION_FAILED = "connection_failed"
BAD_RESPONSE = "bad_response"
