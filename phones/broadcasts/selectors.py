"""Reads of broadcasts: lists, one with its counts and cost so far, its recipients."""
from __future__ import annotations

from django.db.models import Count, QuerySet

from orgs.models import Org
from phones.broadcasts.models import Broadcast, BroadcastRecipient

RStatus = BroadcastRecipient.Status
DELIVERY = ("delivered", "undelivered", "failed")


def broadcast_list(*, org: Org, limit: int, offset: int) -> tuple[list[Broadcast], int]:
    found = Broadcast.objects.filter(org=org)
    return list(found[offset:offset + limit]), found.count()


def broadcast_stats(broadcast: Broadcast) -> dict:
    """Counts by status (and by delivery, from the status callbacks), what is done, the cost so far:
    one query."""
    rows = (BroadcastRecipient.objects.filter(broadcast=broadcast).values("status", "message__status",
                                                                         "message__segments")
            .annotate(n=Count("id")).order_by())
    counts = {status: 0 for status in RStatus.values}
    counts.update({f"delivery_{d}": 0 for d in DELIVERY})
    cost = 0
    per_message = bool(broadcast.media_urls)
    for row in rows:
        counts[row["status"]] += row["n"]
        if row["status"] == RStatus.SENT:
            if row["message__status"] in DELIVERY:
                counts[f"delivery_{row['message__status']}"] += row["n"]
            units = row["n"] if per_message else row["n"] * (row["message__segments"] or 1)
            cost += units * broadcast.unit_price
    done = sum(counts[s] for s in BroadcastRecipient.DONE)
    shown = {"pending": counts[RStatus.PENDING], "sending": counts[RStatus.SENDING], "sent": counts[RStatus.SENT],
             "delivered": counts["delivery_delivered"], "undelivered": counts["delivery_undelivered"],
             "failed": counts[RStatus.FAILED] + counts["delivery_failed"], "optedOut": counts[RStatus.OPTED_OUT],
             "canceled": counts[RStatus.CANCELED]}
    return {"counts": shown, "done": done, "cost": cost if broadcast.settled_cost is None else broadcast.settled_cost}


def recipient_list(*, broadcast: Broadcast, status: str | None, limit: int, offset: int
                   ) -> tuple[list[BroadcastRecipient], int]:
    found: QuerySet = BroadcastRecipient.objects.filter(broadcast=broadcast)
    if status:
        found = found.filter(status=status)
    return list(found.select_related("message").order_by("row")[offset:offset + limit]), found.count()
