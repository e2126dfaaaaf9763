"""`Idempotency-Key` for unsafe API calls: the same key and body give the same response and
one effect; the same key with another body is a 409."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, transaction
from rest_framework.response import Response

from core.errors import Conflict, InvalidInput
from orgs.models import IdempotencyKey, Org

HEADER = "Idempotency-Key"


def _hash(body: object) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def idempotent(*, org: Org, key: str | None, scope: str, body: object, run: Callable[[], Response]) -> Response:
    """Run `run()` in a transaction, once per (org, scope, key).

    The key row is inserted first in the same transaction: a concurrent request with the
    same key waits on the unique index, then finds the stored response. A failed run rolls
    the key back with everything else, so the client may retry it.
    """
    if key is None:
        return run()
    key = key.strip()
    if not key or len(key) > 255:
        raise InvalidInput("Idempotency-Key must be 1 to 255 characters", field=HEADER)
    request_hash = _hash(body)
    try:
        with transaction.atomic():
            record = IdempotencyKey.objects.create(org=org, key=key, scope=scope, request_hash=request_hash)
            response = run()
            record.response_status = response.status_code
            record.response_body = response.data
            record.save(update_fields=["response_status", "response_body"])
            return response
    except IntegrityError:
        record = IdempotencyKey.objects.filter(org=org, scope=scope, key=key).first()
        if record is None:
            raise
    if record.request_hash != request_hash:
        raise Conflict("This Idempotency-Key was used with a different request body",
                       code="idempotency_key_reused", field=HEADER)
    return Response(record.response_body, status=record.response_status, headers={"Idempotent-Replayed": "true"})
