"""Reads for the inbox."""
from __future__ import annotations

from datetime import datetime

from phones.models import Conversation, Message
from telephony.models import Org
from telephony.scoping import for_org


def conversation_list(*, org: Org, limit: int, offset: int) -> tuple[list[Conversation], int]:
    """Most recently active first. Two queries: the page (with contact and number) and the total."""
    conversations = for_org(Conversation.objects.all(), org)
    page = list(conversations.select_related("contact", "phone_number")
                .order_by("-last_message_at", "-id")[offset:offset + limit])
    return page, conversations.count()


def conversation_messages(*, conversation: Conversation, limit: int, before: datetime | None = None
                          ) -> tuple[list[Message], bool]:
    """Newest first; `before` pages back in time. One query: limit + 1 rows tell hasMore."""
    messages = Message.objects.filter(conversation=conversation)
    if before:
        messages = messages.filter(created_at__lt=before)
    rows = list(messages.order_by("-created_at", "-id")[: limit + 1])
    return rows[:limit], len(rows) > limit
