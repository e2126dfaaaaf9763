"""Reads for the inbox."""
from __future__ import annotations

from datetime import datetime

from phones.models import Conversation, Message
from phones.numbers.selectors import messages_page
from orgs.models import Org
from orgs.scoping import for_org


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
