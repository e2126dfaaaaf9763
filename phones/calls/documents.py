"""Validation of a number's routing documents: voice assignments, the IVR flow, SMS rules.

Pure: no database access. What must exist in the org (members, ring groups) is asked of a
`Directory`, so the same checks run in the API, the admin and tests. Every validator either
returns the normalised document (defaults filled in, phone numbers in E.164: exactly what the
webhooks render) or raises one DRF `ValidationError` whose keys are dotted paths into the request
body (`ivrFlow.nodes.main.options.1`, `rules[2].params.to`), every error at once.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from django.core.validators import URLValidator
from rest_framework import serializers
from rest_framework.settings import api_settings

from orgs.serializers import E164Field, StrictSerializer

STRATEGIES = ("simultaneous", "sequential")
DEFAULT_STRATEGY = "simultaneous"
ASSIGNMENT_TYPES = ("user", "group", "client", "phone", "queue")
MAX_ASSIGNMENTS = 20
MAX_NODES = 100
MAX_RULES = 50
MENU_DIGITS = frozenset("0123456789*#")
# The variables an SMS template may use; the webhook fills in "" for what it does not know
# (firstName/lastName come from the sender's contact record, when there is one).
TEMPLATE_VARIABLES = frozenset({"from", "to", "body", "firstName", "lastName", "orgName"})
# Carrier-standard keywords, always honoured as the whole message (seed 001, CTIA).
STANDARD_OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
STANDARD_OPT_IN = frozenset({"START", "YES", "UNSTOP"})
STANDARD_HELP = frozenset({"HELP", "INFO"})

_SLUG = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
_TEMPLATE_TOKEN = re.compile(r"\{\{(.*?)\}\}")


class Directory(Protocol):
    """What exists in the org a document is saved for."""

    def users(self, usernames: set[str]) -> set[str]:
        """The given usernames that belong to members of the org."""

    def groups(self, public_ids: set[str]) -> set[str]:
        """The given ring group ids that are the org's."""


# ---------------------------------------------------------------- error collection

class _Errors:
    """Errors keyed by dotted path, in the order found (the first is the response's `field`)."""

    def __init__(self) -> None:
        self.by_path: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.by_path.setdefault(path, []).append(message)

    def add_detail(self, path: str, detail: Any) -> None:
        for sub_path, message in _flatten(detail, path):
            self.add(sub_path, message)

    def check(self, serializer_class: type[serializers.Serializer], data: Any, path: str,
              **kwargs: Any) -> dict | None:
        serializer = serializer_class(data=data, **kwargs)
        if serializer.is_valid():
            return dict(serializer.validated_data)
        self.add_detail(path, serializer.errors)
        return None

    def raise_if_any(self) -> None:
        if self.by_path:
            raise serializers.ValidationError(self.by_path)


def _flatten(detail: Any, path: str) -> Iterator[tuple[str, str]]:
    """DRF's nested error detail as (dotted path, message) pairs; list items as `[i]`."""
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            if key == api_settings.NON_FIELD_ERRORS_KEY:
                sub = path
            elif isinstance(key, int):
                sub = f"{path}[{key}]"
            else:
                sub = f"{path}.{key}" if path else str(key)
            yield from _flatten(value, sub)
    elif isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            for message in detail:
                yield path, str(message)
        else:
            for index, item in enumerate(detail):
                if item:
                    yield from _flatten(item, f"{path}[{index}]")
    else:
        yield path, str(detail)


def _fail(field: str, message: str) -> serializers.ValidationError:
    return serializers.ValidationError({field: [message]})


# ---------------------------------------------------------------- shared fields

class Text(serializers.CharField):
    """A string, and only a string: DRF's CharField would quietly turn 42 into "42"."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def _pattern(regex: str, message: str, **kwargs: Any) -> serializers.RegexField:
    return serializers.RegexField(regex, error_messages={"invalid": message}, **kwargs)


def _node_id(**kwargs: Any) -> serializers.RegexField:
    return _pattern(_SLUG, "Node ids are slugs: letters, digits, - and _, at most 64.", **kwargs)


def _external_id(**kwargs: Any) -> serializers.RegexField:
    """An id of something outside this service (an automation, a flow)."""
    return _pattern(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$", "Letters, digits and _ . : - only, at most 100.", **kwargs)


def _tag(**kwargs: Any) -> serializers.RegexField:
    return _pattern(r"^[^\s,][^,]{0,49}$", "A tag is 1 to 50 characters, no commas, not starting with a space.",
                    **kwargs)


def _queue_name(**kwargs: Any) -> serializers.RegexField:
    return _pattern(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$",
                    "A queue name is 1 to 64 letters, digits, spaces and _ . -.", **kwargs)


def _client_identity(**kwargs: Any) -> serializers.RegexField:
    """A Voice SDK client identity, as Twilio allows it."""
    return _pattern(r"^[A-Za-z0-9_]{1,121}$", "A client identity is 1 to 121 letters, digits or _.", **kwargs)


class StrictE164(E164Field):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid_phone")
        return super().to_internal_value(data)


class Template(Text):
    """Message text with {{variable}} placeholders from TEMPLATE_VARIABLES."""

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        template_check(value, TEMPLATE_VARIABLES)
        return value


def template_check(value: str, allowed: frozenset[str]) -> None:
    for token in _TEMPLATE_TOKEN.findall(value):
        name = token.strip()
        if name not in allowed:
            raise serializers.ValidationError(
                f"Unknown variable {{{{{name}}}}}: use one of {', '.join(sorted(allowed))}.")
    if "{{" in _TEMPLATE_TOKEN.sub("", value) or "}}" in _TEMPLATE_TOKEN.sub("", value):
        raise serializers.ValidationError("Unbalanced {{ }} in the template.")


def _seconds(low: int, high: int, default: int) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=low, max_value=high, required=False, default=default)


# ---------------------------------------------------------------- prompts (Say / Play)

class _Prompt(StrictSerializer):
    """What the caller hears: `say` (text to speech, optional voice/language) or `play` (audio URL)."""

    prompt_required = False

    say = Text(required=False, max_length=4000)
    play = Text(required=False, max_length=1000, validators=[URLValidator(
        schemes=["http", "https"], message="play is the http(s) URL of an audio file.")])
    voice = _pattern(r"^(man|woman|alice|Polly\.[A-Za-z-]+|Google\.[A-Za-z0-9-]+)$",
                     "man, woman, alice, Polly.<Name> or Google.<Name>.", required=False)
    language = _pattern(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,4})?$", "A language tag such as en-US.", required=False)

    def validate(self, attrs: dict) -> dict:
        if "say" in attrs and "play" in attrs:
            raise _fail("play", "Give say or play, not both.")
        if self.prompt_required and "say" not in attrs and "play" not in attrs:
            raise _fail("say", "A prompt is required: say (text) or play (an audio URL).")
        for key in ("voice", "language"):
            if key in attrs and "say" not in attrs:
                raise _fail(key, f"{key} only applies to say.")
        return attrs


class VoicemailSerializer(_Prompt):
    """Record a message after an optional greeting."""

    maxLength = _seconds(1, 3600, default=120)
    transcribe = serializers.BooleanField(required=False, default=False)


# ---------------------------------------------------------------- voice assignments

# user: a member's username; group: a RingGroup id; client: a softphone identity; phone: E.164.
_TARGETS: dict[str, serializers.Field] = {
    "user": Text(max_length=150),
    "group": Text(max_length=32),
    "client": _client_identity(),
    "phone": StrictE164(),
    "queue": _queue_name(),
}


class _Assignment(StrictSerializer):
    type = serializers.ChoiceField(choices=ASSIGNMENT_TYPES)
    target = serializers.JSONField()
    ringOrder = serializers.IntegerField(min_value=1, max_value=MAX_ASSIGNMENTS, required=False)
    timeout = _seconds(5, 600, default=20)

    def validate(self, attrs: dict) -> dict:
        try:
            attrs["target"] = _TARGETS[attrs["type"]].run_validation(attrs["target"])
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"target": exc.detail}) from None
        return attrs


def validate_strategy(value: Any) -> str:
    if value not in STRATEGIES:
        raise _fail("strategy", f"Use one of: {', '.join(STRATEGIES)}.")
    return value


def validate_voicemail(value: Any) -> dict | None:
    """null: no voicemail, the call ends when nobody answers."""
    if value is None:
        return None
    errors = _Errors()
    clean = errors.check(VoicemailSerializer, value, "voicemail")
    errors.raise_if_any()
    return clean


def validate_assignments(value: Any, *, directory: Directory) -> list[dict]:
    """Who rings, in ring order (sorted by ringOrder, which defaults to the position in the list).

    With the sequential strategy, assignments sharing a ringOrder ring together as one step.
    A queue is where the caller waits, so nothing can ring after it: it must come last.
    """
    errors = _Errors()
    if not isinstance(value, list):
        raise _fail("assignments", "Expected a list of assignments.")
    if len(value) > MAX_ASSIGNMENTS:
        raise _fail("assignments", f"At most {MAX_ASSIGNMENTS} assignments.")
    clean: list[tuple[int, dict]] = []
    for index, item in enumerate(value):
        assignment = errors.check(_Assignment, item, f"assignments[{index}]")
        if assignment is not None:
            assignment.setdefault("ringOrder", index + 1)
            clean.append((index, assignment))
    seen: dict[tuple[str, str], int] = {}
    for index, a in clean:
        key = (a["type"], a["target"])
        if key in seen:
            errors.add(f"assignments[{index}].target", f"Already assigned at assignments[{seen[key]}].")
        seen.setdefault(key, index)
    _check_directory(errors, directory,
                     users={f"assignments[{i}].target": a["target"] for i, a in clean if a["type"] == "user"},
                     groups={f"assignments[{i}].target": a["target"] for i, a in clean if a["type"] == "group"})
    queues = [(i, a) for i, a in clean if a["type"] == "queue"]
    if len(queues) > 1:
        errors.add(f"assignments[{queues[1][0]}].type", "At most one queue: a caller waits in one queue.")
    elif queues:
        index, queue = queues[0]
        if any(a["ringOrder"] >= queue["ringOrder"] for i, a in clean if i != index):
            errors.add(f"assignments[{index}].ringOrder",
                       "A queue must come last: nothing can ring once the caller is waiting in it.")
    errors.raise_if_any()
    return sorted((a for _, a in clean), key=lambda a: a["ringOrder"])


def _check_directory(errors: _Errors, directory: Directory, *, users: dict[str, str],
                     groups: dict[str, str]) -> None:
    """`users`/`groups` map the path of each reference to the username / group id it names."""
    if users:
        known = directory.users(set(users.values()))
        for path, username in users.items():
            if username not in known:
                errors.add(path, f"No member {username!r} in this org.")
    if groups:
        known = directory.groups(set(groups.values()))
        for path, group_id in groups.items():
            if group_id not in known:
                errors.add(path, f"No ring group {group_id!r} in this org.")


# ---------------------------------------------------------------- IVR flow

class _MenuNode(_Prompt):
    prompt_required = True

    options = serializers.DictField(child=_node_id(), allow_empty=False)
    timeout = _seconds(1, 60, default=5)
    invalid = _node_id(required=False)
    noInput = _node_id(required=False)

    def validate_options(self, value: dict) -> dict:
        bad = {key: ["Options are single keys: 0-9, * or #."] for key in value if key not in MENU_DIGITS}
        if bad:
            raise serializers.ValidationError(bad)
        return value


class _Transfer(StrictSerializer):
    timeout = _seconds(5, 600, default=30)
    next = _node_id(required=False, help_text="Where the call goes when nobody answers; without it, it ends.")


class _TransferPhoneNode(_Transfer):
    number = StrictE164()
    callerId = StrictE164(required=False)


class _TransferUserNode(_Transfer):
    user = Text(max_length=150)


class _TransferGroupNode(_Transfer):
    group = Text(max_length=32)


class _TransferQueueNode(StrictSerializer):
    queue = _queue_name()


class _SendSmsNode(StrictSerializer):
    to = Text(max_length=32, help_text='"caller", or an E.164 number.')
    body = Text(max_length=1600)
    next = _node_id()

    def validate_to(self, value: str) -> str:
        return value if value == "caller" else StrictE164().run_validation(value)


class _AiAssistantNode(StrictSerializer):
    url = Text(max_length=1000)
    parameters = serializers.DictField(child=Text(max_length=500, allow_blank=True), required=False)
    next = _node_id(required=False)

    def validate_url(self, value: str) -> str:
        if not value.startswith("wss://"):
            raise serializers.ValidationError("The media stream URL must start with wss://.")
        URLValidator(schemes=["wss"], message="Not a valid wss:// URL.")(value)
        return value

    def validate_parameters(self, value: dict) -> dict:
        if len(value) > 20:
            raise serializers.ValidationError("At most 20 parameters.")
        bad = {k: ["Parameter names are identifiers: letters, digits and _, at most 64."]
               for k in value if not re.match(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$", k)}
        if bad:
            raise serializers.ValidationError(bad)
        return value


class _RecordingNode(StrictSerializer):
    next = _node_id()


NODE_TYPES: dict[str, type[serializers.Serializer]] = {
    "menu": _MenuNode,
    "transfer-phone": _TransferPhoneNode,
    "transfer-user": _TransferUserNode,
    "transfer-group": _TransferGroupNode,
    "transfer-queue": _TransferQueueNode,
    "voicemail": VoicemailSerializer,
    "send-sms": _SendSmsNode,
    "ai-assistant": _AiAssistantNode,
    "start-recording": _RecordingNode,
    "pause-recording": _RecordingNode,
    "resume-recording": _RecordingNode,
    "hangup": _Prompt,
}


class _Flow(StrictSerializer):
    entry = _node_id()
    nodes = serializers.DictField(allow_empty=False)
    fallback = _node_id(required=False)
    maxRetries = serializers.IntegerField(min_value=1, max_value=5, required=False, default=3)


def node_links(node: dict) -> list[tuple[str, str]]:
    """The (field path within the node, node id) pairs a node leads to."""
    links = [(f"options.{digit}", target) for digit, target in node.get("options", {}).items()]
    links += [(key, node[key]) for key in ("invalid", "noInput", "next") if key in node]
    return links


def validate_ivr_flow(value: Any, *, directory: Directory) -> dict | None:
    """A graph of nodes the call walks from `entry`; null clears the flow.

    Menus wait for the caller; every other node runs and moves on by itself, so a loop made only
    of non-menu nodes would never end (or end only when the caller hangs up, after ringing or
    texting someone on every turn): it is refused, as is a fallback that leads back into a menu.
    """
    if value is None:
        return None
    errors = _Errors()
    flow = errors.check(_Flow, value, "ivrFlow")
    errors.raise_if_any()
    if len(flow["nodes"]) > MAX_NODES:
        raise _fail("ivrFlow.nodes", f"At most {MAX_NODES} nodes.")
    nodes: dict[str, dict] = {}
    users: dict[str, str] = {}
    groups: dict[str, str] = {}
    for node_id, raw in flow["nodes"].items():
        path = f"ivrFlow.nodes.{node_id}"
        if not re.match(_SLUG, node_id):
            errors.add(path, "Node ids are slugs: letters, digits, - and _, at most 64.")
            continue
        if not isinstance(raw, dict):
            errors.add(path, "Expected an object with a type.")
            continue
        node_type = raw.get("type")
        if node_type not in NODE_TYPES:
            errors.add(f"{path}.type", f"Use one of: {', '.join(NODE_TYPES)}.")
            continue
        params = errors.check(NODE_TYPES[node_type], {k: v for k, v in raw.items() if k != "type"}, path)
        if params is None:
            continue
        nodes[node_id] = {"type": node_type, **params}
        if node_type == "transfer-user":
            users[f"{path}.user"] = params["user"]
        elif node_type == "transfer-group":
            groups[f"{path}.group"] = params["group"]
    _check_directory(errors, directory, users=users, groups=groups)
    errors.raise_if_any()

    for key in ("entry", "fallback"):
        if key in flow and flow[key] not in nodes:
            errors.add(f"ivrFlow.{key}", f"No node {flow[key]!r} in this flow.")
    for node_id, node in nodes.items():
        for field, target in node_links(node):
            if target not in nodes:
                errors.add(f"ivrFlow.nodes.{node_id}.{field}", f"No node {target!r} in this flow.")
    errors.raise_if_any()

    _check_loops(errors, nodes)
    errors.raise_if_any()
    if "fallback" in flow:
        menu = _menu_reached(nodes, flow["fallback"])
        if menu is not None:
            errors.add("ivrFlow.fallback", f"The fallback leads back to menu {menu!r}: a caller who never "
                                           "presses a key would go round forever. End in a transfer, "
                                           "voicemail or hangup.")
    errors.raise_if_any()
    flow["nodes"] = nodes
    return flow


def _check_loops(errors: _Errors, nodes: dict[str, dict]) -> None:
    """Non-menu nodes have at most one way on (`next`), so following it from each node either
    ends, reaches a menu, or closes a loop; each loop is reported once, at its first node."""
    done: set[str] = set()
    for start in nodes:
        trail: list[str] = []
        current: str | None = start
        while current is not None and current not in done and nodes[current]["type"] != "menu":
            if current in trail:
                loop = trail[trail.index(current):]
                first = min(loop, key=list(nodes).index)
                at = loop.index(first)
                loop = loop[at:] + loop[:at]
                errors.add(f"ivrFlow.nodes.{first}.next",
                           "These nodes loop without a menu in between, so the call would never end: "
                           + " → ".join([*loop, first]) + ".")
                break
            trail.append(current)
            current = nodes[current].get("next")
        done.update(trail)


def _menu_reached(nodes: dict[str, dict], start: str) -> str | None:
    current: str | None = start
    while current is not None:
        if nodes[current]["type"] == "menu":
            return current
        current = nodes[current].get("next")
    return None


# ---------------------------------------------------------------- SMS rules

class _Match(StrictSerializer):
    """Absent: any message. exact: the whole message (trimmed) is one of the keywords;
    contains: a keyword appears in it as a whole word or phrase. Both ignore case."""

    keywords = serializers.ListField(child=Text(max_length=100), min_length=1, max_length=50)
    mode = serializers.ChoiceField(choices=["exact", "contains"], required=False, default="exact")


class _AutoReply(StrictSerializer):
    template = Template(max_length=1600)


class _GoToFlow(StrictSerializer):
    flowId = _external_id()


class _FormField(StrictSerializer):
    name = _pattern(r"^[A-Za-z][A-Za-z0-9_]{0,39}$",
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
    automationId = _external_id()


class _CreateLead(StrictSerializer):
    source = Text(required=False, max_length=100)
    tags = serializers.ListField(child=_tag(), required=False, max_length=20)


class _AddTag(StrictSerializer):
    tag = _tag()


class _Keywords(StrictSerializer):
    """Extra keywords, matched like the standard ones: the whole message, ignoring case."""

    keywords = serializers.ListField(
        child=_pattern(r"^[A-Za-z0-9]{1,30}$", "A keyword is one word of letters and digits, at most 30."),
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
        raise _fail("rules", "Expected a list of rules.")
    if len(value) > MAX_RULES:
        raise _fail("rules", f"At most {MAX_RULES} rules.")
    errors = _Errors()
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
