"""A number's page as a provider console reads: JSON documents (capabilities, webhooks, routing,
SMS rules, configuration) rendered as labelled fields and sentences, never as raw JSON.

Everything here returns escaped HTML (format_html / format_html_join): the documents hold what
API clients typed.
"""
from __future__ import annotations

import re
from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

NONE = mark_safe('<span class="quiet">—</span>')

WEBHOOK_FIELDS = [
    # (label, url key, method key)
    ("Voice URL", "voiceUrl", "voiceMethod"),
    ("Voice fallback URL", "voiceFallbackUrl", None),
    ("SMS URL", "smsUrl", "smsMethod"),
    ("Status callback", "statusCallback", "statusCallbackMethod"),
]


def humanise(key: str) -> str:
    """recordCalls → Record calls; max_length → Max length."""
    words = re.sub(r"(?<=[a-z0-9])([A-Z])", r" \1", str(key)).replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:].lower()


def yes_no(value: bool) -> SafeString:
    if value:
        return mark_safe('<span class="cap-yes" style="color:#137333;font-weight:600">✓ Yes</span>')
    return mark_safe('<span class="cap-no" style="color:#5f6368">✗ No</span>')


def webhook(hooks: dict, url_key: str, method_key: str | None) -> SafeString:
    url = (hooks or {}).get(url_key) or ""
    if not url:
        return NONE
    method = (hooks or {}).get(method_key) if method_key else ""
    return format_html('<code style="white-space:nowrap">{}</code> {}', method or "", url) if method else \
        format_html("<code>{}</code>", url)


def readable(value: Any) -> SafeString:
    """Any JSON value as nested labelled fields: dicts as definition lists, lists as bullets."""
    if value is None or value == "" or value == [] or value == {}:
        return NONE
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, dict):
        return format_html('<dl class="readable" style="margin:0">{}</dl>', format_html_join(
            "", '<dt style="font-weight:600;margin-top:2px">{}</dt><dd style="margin:0 0 2px 16px">{}</dd>',
            ((humanise(k), readable(v)) for k, v in value.items())))
    if isinstance(value, list):
        if all(not isinstance(v, (dict, list)) for v in value):
            return format_html("{}", ", ".join(str(v) for v in value))
        return format_html('<ul style="margin:0;padding-left:16px">{}</ul>',
                           format_html_join("", "<li>{}</li>", ((readable(v),) for v in value)))
    return format_html("{}", value)


ASSIGNMENT_VERBS = {"user": "Ring member", "client": "Ring softphone client", "group": "Ring group",
                    "phone": "Forward to", "agent": "Hand to agent", "trunk": "Send to trunk", "sip": "Dial SIP"}


def assignment(a: dict) -> str:
    verb = ASSIGNMENT_VERBS.get(a.get("type", ""), humanise(a.get("type", "ring")))
    target = a.get("target")
    target = target if isinstance(target, str) else ", ".join(f"{k}={v}" for k, v in (target or {}).items()) \
        if isinstance(target, dict) else str(target)
    extras = [f"order {a['ringOrder']}" if a.get("ringOrder") else "", f"{a['timeout']} s" if a.get("timeout") else ""]
    extras = [e for e in extras if e]
    return f"{verb} {target}" + (f" ({', '.join(extras)})" if extras else "")


def assignments(document: dict | list) -> SafeString:
    """The voice document: who rings, in what order (strategy), and the voicemail after."""
    if isinstance(document, list):
        document = {"assignments": document}
    items = (document or {}).get("assignments") or []
    if not items and not (document or {}).get("voicemail"):
        return NONE
    listed = format_html('<ol class="assignments" style="margin:0;padding-left:18px">{}</ol>', format_html_join(
        "", "<li>{}</li>", ((assignment(a) if isinstance(a, dict) else str(a),) for a in items))) if items else NONE
    strategy = document.get("strategy")
    voicemail = document.get("voicemail")
    return format_html("{}{}{}", format_html("<div>Strategy: <strong>{}</strong></div>", humanise(strategy))
                       if strategy else "", listed,
                       format_html('<div style="margin-top:4px">Then voicemail: {}</div>', readable(voicemail))
                       if voicemail else "")


def _node_detail(node: dict) -> str:
    parts = []
    for key in ("say", "play", "body"):
        if node.get(key):
            text = str(node[key])
            parts.append(f'{key} “{text if len(text) <= 80 else text[:79] + "…"}”')
    if node.get("options"):
        parts.append("keys " + ", ".join(f"{digit}→{target}" for digit, target in node["options"].items()))
    for key in ("number", "group", "url", "to"):
        if node.get(key):
            parts.append(f"{key} {node[key]}")
    if node.get("next"):
        parts.append(f"then {node['next']}")
    return "; ".join(parts)


def ivr_flow(flow: dict) -> SafeString:
    nodes = (flow or {}).get("nodes") or {}
    if not nodes:
        return NONE
    head = format_html("Starts at <strong>{}</strong>{}{}", flow.get("entry", "?"),
                       format_html(", falls back to <strong>{}</strong>", flow["fallback"]) if flow.get("fallback")
                       else "", format_html(", {} retries", flow["maxRetries"]) if flow.get("maxRetries") else "")
    rows = format_html_join("", '<tr><th style="white-space:nowrap">{}</th><td>{}</td><td>{}</td></tr>', (
        (name, humanise(node.get("type", "")), _node_detail(node)) for name, node in nodes.items()
        if isinstance(node, dict)))
    return format_html('{}<table class="ivr-nodes" style="margin-top:4px"><thead><tr><th>node</th><th>type</th>'
                       '<th>what it does</th></tr></thead><tbody>{}</tbody></table>', head, rows)


def _match(match: dict | None) -> str:
    if not match:
        return "every text"
    keywords = ", ".join(f"“{k}”" for k in match.get("keywords", []))
    mode = match.get("mode", "contains")
    return f"a text that {'is exactly' if mode == 'exact' else mode} {keywords}" if keywords else humanise(str(match))


def sms_rules(rules: list) -> SafeString:
    if not rules:
        return NONE
    rows = []
    for rule in rules:
        if not isinstance(rule, dict):
            continue
        params = rule.get("params") or {}
        rows.append((humanise(rule.get("type", "rule")), _match(rule.get("match")), readable(params)))
    return format_html('<table class="sms-rules"><thead><tr><th>#</th><th>rule</th><th>on</th><th>settings</th>'
                       '</tr></thead><tbody>{}</tbody></table>', format_html_join(
                           "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                           ((i, *row) for i, row in enumerate(rows, 1))))


def links(items: list[tuple[str, str, int]]) -> SafeString:
    """Labelled links to filtered changelists, with how many rows each has."""
    return format_html('<ul class="related-links" style="margin:0;padding:0;list-style:none;display:flex;'
                       'flex-wrap:wrap;gap:6px 18px">{}</ul>', format_html_join(
                           "", '<li><a href="{}">{}</a> <span class="quiet">({})</span></li>',
                           ((url, label, count) for label, url, count in items)))
