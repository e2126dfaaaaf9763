"""Validation of a number's SMS rules (the engine that runs them is phones.messaging.engine)."""
from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.serializers import StrictSerializer
from phones.documents import (
    TEMPLATE_VARIABLES,
    Errors,
    StrictE164,
    Template,
    Text,
    external_id,
    fail,
    pattern,
    tag,
    template_check,
)

MAX_RULES = 50
# Carrier-standard keywords, always honoured as the whole message (CTIA).
STANDARD_OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
STANDARD_OPT_IN = frozenset({"START", "YES", "UNSTOP"})
STANDARD_HELP = frozenset({"HELP", "INFO"})


# ---------------------------------------------------------------- SMS rules

class _Match(StrictSerializer):
    """Absent: any message. exact: the whole message (trimmed) is one of the keywords;
    contains: a keyword appears in it as a whole word or phrase. Both ignore case."""

    keywords = serializers.ListField(child=Text(max_length=100), min_length=1, max_length=50)
    mode = serializers.ChoiceField(choices=["exact", "contains"], required=False, default="exact")


class _AutoReply(StrictSerializer):
    template = Template(max_length=1600)


class _GoToFlow(StrictSerializer):
    flowId = external_id()


class _FormField(StrictSerializer):
    name = pattern(r"^[A-Za-z][A-Za-z0-9_]{0,39}$",
                    "A field name is an identifier: a letter, then letters, digits or _, at most 40.")
    prompt = Text(max_length=1600)


class _FillForm(StrictSerializer):
    fields = serializers.ListField(child=_FormField(), min_length=1, max_length=20)
    completeMessage = Text(max_length=1600, help_text="May use the template variables and the field names.")

    def validate(self, attrs: dict) -> dict:
        names = [field["name"] for field in attrs["fields"]]
        for index, name in enumerate(names):
            if name in names[:index]:
                raise serializers.ValidationError({"fields": {index: {"name": [f"{name!r} is asked twice."]}}})
        if name_clash := sorted(set(names) & TEMPLATE_VARIABLES):
            raise serializers.ValidationError(
                {"fields": {names.index(name_clash[0]): {"name": [f"{name_clash[0]!r} is a template variable."]}}})
        try:
            template_check(attrs["completeMessage"], TEMPLATE_VARIABLES | frozenset(names))
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"completeMessage": exc.detail}) from None
        return attrs


class _ForwardSms(StrictSerializer):
    to = StrictE164()


class _AiAssistantRule(StrictSerializer):
    instructions = Text(required=False, max_length=4000)


class _TriggerAutomation(StrictSerializer):
    automationId = external_id()


class _CreateLead(StrictSerializer):
    source = Text(required=False, max_length=100)
    tags = serializers.ListField(child=tag(), required=False, max_length=20)


class _AddTag(StrictSerializer):
    tag = tag()


class _Keywords(StrictSerializer):
    """Extra keywords, matched like the standard ones: the whole message, ignoring case."""

    keywords = serializers.ListField(
        child=pattern(r"^[A-Za-z0-9]{1,30}$", "A keyword is one word of letters and digits, at most 30."),
        required=False, min_length=1, max_length=20)

    def validate_keywords(self, value: list[str]) -> list[str]:
        return [keyword.upper() for keyword in value]


RULE_TYPES: dict[str, type[serializers.Serializer]] = {
    "auto-reply": _AutoReply,
    "go-to-flow": _GoToFlow,
    "fill-form": _FillForm,
    "forward-sms": _ForwardSms,
    "ai-assistant": _AiAssistantRule,
    "trigger-automation": _TriggerAutomation,
    "create-lead": _CreateLead,
    "add-tag": _AddTag,
    "opt-out": _Keywords,
    "opt-in": _Keywords,
}


class _Rule(StrictSerializer):
    type = serializers.ChoiceField(choices=list(RULE_TYPES))
    match = _Match(required=False, allow_null=True)
    params = serializers.DictField(required=False, default=dict)


def validate_sms_rules(value: Any) -> list[dict]:
    """Rules in order; each is {type, match (null = any message), params}. Every rule whose match
    fits runs, in order, so e.g. add-tag and auto-reply combine; narrow a rule with `match`.

    opt-out/opt-in rules add keywords to the standard lists and take no `match`: they are matched
    as the whole message, like STOP and START. A keyword cannot mean both, nor shadow HELP/INFO.
    """
    if not isinstance(value, list):
        raise fail("rules", "Expected a list of rules.")
    if len(value) > MAX_RULES:
        raise fail("rules", f"At most {MAX_RULES} rules.")
    errors = Errors()
    rules: list[dict] = []
    meaning = {k: "opt-out" for k in STANDARD_OPT_OUT} | {k: "opt-in" for k in STANDARD_OPT_IN} | {
        k: "help" for k in STANDARD_HELP}
    for index, raw in enumerate(value):
        path = f"rules[{index}]"
        rule = errors.check(_Rule, raw, path)
        if rule is None:
            continue
        params = errors.check(RULE_TYPES[rule["type"]], rule["params"], f"{path}.params")
        if params is None:
            continue
        if rule["type"] in ("opt-out", "opt-in"):
            if rule.get("match") is not None:
                errors.add(f"{path}.match", f"{rule['type']} rules take params.keywords, matched as the whole "
                                            "message, instead of match.")
            for k, keyword in enumerate(params.get("keywords", [])):
                if meaning.setdefault(keyword, rule["type"]) != rule["type"]:
                    errors.add(f"{path}.params.keywords[{k}]", f"{keyword} already means {meaning[keyword]}.")
        rules.append({"type": rule["type"], "match": rule.get("match"), "params": params})
    errors.raise_if_any()
    return rules
