"""Reads for the inbox and a number's messages."""
from __future__ import annotations

from datetime import datetime
from functools import cache

from django.db import connection
from django.db.models import QuerySet

from orgs.models import Org
from orgs.scoping import for_org
from phones.models import Contact, Conversation, Message, OptOut, PhoneNumber


def conversation_list(*, org: Org, limit: int, offset: int) -> tuple[list[Conversation], int]:
    """Most recently active first. Two queries: the page (with contact and number) and the total."""
    conversations = for_org(Conversation.objects.all(), org)
    page = list(conversations.select_related("contact", "phone_number")
                .order_by("-last_message_at", "-id")[offset:offset + limit])
    return page, conversations.count()


def conversation_messages(*, conversation: Conversation, limit: int, before: datetime | None = None
                          ) -> tuple[list[Message], bool]:
    """Newest first; `before` pages back in time. One query: limit + 1 rows tell hasMore."""
    return messages_page(Message.objects.filter(conversation=conversation), limit=limit, before=before)


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


@cache
def _sender_source_sql() -> str:
    contact, opt_out = _qn(Contact._meta.db_table), _qn(OptOut._meta.db_table)
    return (f"(SELECT EXISTS(SELECT 1 FROM {opt_out} o WHERE o.{_qn('org_id')} = %s AND o.{_qn('e164')} = %s "
            f"AND o.{_qn('lifted_at')} IS NULL) AS suppressed, c.{_qn('id')} AS contact_id, "
            f"c.{_qn('first_name')} AS first_name, c.{_qn('last_name')} AS last_name "
            f"FROM (SELECT 1) one LEFT JOIN {contact} c ON c.{_qn('org_id')} = %s AND c.{_qn('e164')} = %s) sender")


def sender_source(*, org_id: int, e164: str) -> tuple[str, list]:
    """The sender read as a FROM clause: one row `sender` (suppressed; contact_id, first_name and
    last_name NULL when new), for sender_lookup or for a statement that reads the sender while it
    writes (PostgreSQL)."""
    return _sender_source_sql(), [org_id, e164, org_id, e164]


def sender_lookup(*, org_id: int, e164: str) -> tuple[int | None, str, str, bool]:
    """The sender's contact id and name (None, "", "" when new) and whether they opted out: one
    statement (the ORM's Exists + Subquery version took longer to compile than to run)."""
    source, params = sender_source(org_id=org_id, e164=e164)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT sender.contact_id, sender.first_name, sender.last_name, sender.suppressed "
                       f"FROM {source}", params)
        contact_id, first_name, last_name, suppressed = cursor.fetchone()
    return contact_id, first_name or "", last_name or "", bool(suppressed)


def _json_text(column: str) -> str:
    """The sender's name as it is written inside a JSON string ("" when new)."""
    return f"left(right(to_json(coalesce(sender.{column}, ''))::text, -1), -1)"


def answer_for_sender(quiet: str, named: str, first_token: str, last_token: str) -> tuple[str, list]:
    """An SQL expression over sender_source: the JSON `quiet` for a sender who opted out, else
    `named` with the sender's first and last names in place of the tokens standing in for them."""
    return (f"(CASE WHEN sender.suppressed THEN %s ELSE replace(replace(%s, %s, {_json_text('first_name')}), %s, "
            f"{_json_text('last_name')}) END)::jsonb"), [quiet, named, first_token, last_token]


def phone_messages(*, number: PhoneNumber, limit: int, before=None, after=None) -> tuple[list[Message], bool]:
    """Newest first; `before`/`after` are timestamps (cursors). One query: limit + 1 rows tell hasMore."""
    # The org too: a number staff moved to another org does not bring its old org's messages.
    return messages_page(Message.objects.filter(phone_number=number, org=number.org), limit=limit, before=before,
                         after=after)


def messages_page(messages: QuerySet[Message], *, limit: int, before=None, after=None) -> tuple[list[Message], bool]:
    """Newest first, between the `before`/`after` timestamps (cursors). One query: limit + 1 rows tell hasMore."""
    if before:
        messages = messages.filter(created_at__lt=before)
    if after:
        messages = messages.filter(created_at__gt=after)
    rows = list(messages.order_by("-created_at", "-id")[: limit + 1])
    return rows[:limit], len(rows) > limit
