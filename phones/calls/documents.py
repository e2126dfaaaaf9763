"""Validation of a number's voice documents: voice assignments and the IVR flow.

What must exist in the org (members, ring groups) is asked of a `Directory`, so the same checks
run in the API, the admin and tests (phones.documents has the shared fields and error collection).
"""
from __future__ import annotations

import re
from typing import Any, Protocol

from django.core.validators import URLValidator
from rest_framework import serializers

from core.serializers import StrictSerializer
from phones.documents import (
    SLUG,
    Errors,
    StrictE164,
    Text,
    client_identity,
    fail,
    node_id_field,
    pattern,
    queue_name,
    seconds,
)

STRATEGIES = ("simultaneous", "sequential")
DEFAULT_STRATEGY = "simultaneous"
ASSIGNMENT_TYPES = ("user", "group", "client", "phone", "queue")
MAX_ASSIGNMENTS = 20
MAX_NODES = 100
MENU_DIGITS = frozenset("0123456789*#")


class Directory(Protocol):
    """What exists in the org a document is saved for."""

    def users(self, usernames: set[str]) -> set[str]:
        """The given usernames that belong to members of the org."""

    def groups(self, public_ids: set[str]) -> set[str]:
        """The given ring group ids that are the org's."""

    def agents(self, public_ids: set[str]) -> set[str]:
        """The given agent ids that are the org's."""


# ---------------------------------------------------------------- prompts (Say / Play)

class _Prompt(StrictSerializer):
    """What the caller hears: `say` (text to speech, optional voice/language) or `play` (audio URL)."""

    prompt_required = False

    say = Text(required=False, max_length=4000)
    play = Text(required=False, max_length=1000, validators=[URLValidator(
        schemes=["http", "https"], message="play is the http(s) URL of an audio file.")])
    voice = pattern(r"^(man|woman|alice|Polly\.[A-Za-z-]+|Google\.[A-Za-z0-9-]+)$",
                     "man, woman, alice, Polly.<Name> or Google.<Name>.", required=False)
    language = pattern(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,4})?$", "A language tag such as en-US.", required=False)

    def validate(self, attrs: dict) -> dict:
        if "say" in attrs and "play" in attrs:
            raise fail("play", "Give say or play, not both.")
        if self.prompt_required and "say" not in attrs and "play" not in attrs:
            raise fail("say", "A prompt is required: say (text) or play (an audio URL).")
        for key in ("voice", "language"):
            if key in attrs and "say" not in attrs:
                raise fail(key, f"{key} only applies to say.")
        return attrs


class VoicemailSerializer(_Prompt):
    """Record a message after an optional greeting."""

    maxLength = seconds(1, 3600, default=120)
    transcribe = serializers.BooleanField(required=False, default=False)


# ---------------------------------------------------------------- voice assignments

# user: a member's username; group: a RingGroup id; client: a softphone identity; phone: E.164.
_TARGETS: dict[str, serializers.Field] = {
    "user": Text(max_length=150),
    "group": Text(max_length=32),
    "client": client_identity(),
    "phone": StrictE164(),
    "queue": queue_name(),
}


class _Assignment(StrictSerializer):
    type = serializers.ChoiceField(choices=ASSIGNMENT_TYPES)
    target = serializers.JSONField()
    ringOrder = serializers.IntegerField(min_value=1, max_value=MAX_ASSIGNMENTS, required=False)
    timeout = seconds(5, 600, default=20)

    def validate(self, attrs: dict) -> dict:
        try:
            attrs["target"] = _TARGETS[attrs["type"]].run_validation(attrs["target"])
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"target": exc.detail}) from None
        return attrs


def validate_strategy(value: Any) -> str:
    if value not in STRATEGIES:
        raise fail("strategy", f"Use one of: {', '.join(STRATEGIES)}.")
    return value


def validate_voicemail(value: Any) -> dict | None:
    """null: no voicemail, the call ends when nobody answers."""
    if value is None:
        return None
    errors = Errors()
    clean = errors.check(VoicemailSerializer, value, "voicemail")
    errors.raise_if_any()
    return clean


def validate_assignments(value: Any, *, directory: Directory) -> list[dict]:
    """Who rings, in ring order (sorted by ringOrder, which defaults to the position in the list).

    With the sequential strategy, assignments sharing a ringOrder ring together as one step.
    A queue is where the caller waits, so nothing can ring after it: it must come last.
    """
    errors = Errors()
    if not isinstance(value, list):
        raise fail("assignments", "Expected a list of assignments.")
    if len(value) > MAX_ASSIGNMENTS:
        raise fail("assignments", f"At most {MAX_ASSIGNMENTS} assignments.")
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


def _check_directory(errors: Errors, directory: Directory, *, users: dict[str, str],
                     groups: dict[str, str], agents: dict[str, str] | None = None) -> None:
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
    if agents:
        known = directory.agents(set(agents.values()))
        for path, agent_id in agents.items():
            if agent_id not in known:
                errors.add(path, f"No agent {agent_id!r} in this org.")


# ---------------------------------------------------------------- IVR flow

class _MenuNode(_Prompt):
    prompt_required = True

    options = serializers.DictField(child=node_id_field(), allow_empty=False)
    timeout = seconds(1, 60, default=5)
    invalid = node_id_field(required=False)
    noInput = node_id_field(required=False)

    def validate_options(self, value: dict) -> dict:
        bad = {key: ["Options are single keys: 0-9, * or #."] for key in value if key not in MENU_DIGITS}
        if bad:
            raise serializers.ValidationError(bad)
        return value


class _Transfer(StrictSerializer):
    timeout = seconds(5, 600, default=30)
    next = node_id_field(required=False, help_text="Where the call goes when nobody answers; without it, it ends.")


class _TransferPhoneNode(_Transfer):
    number = StrictE164()
    callerId = StrictE164(required=False)


class _TransferUserNode(_Transfer):
    user = Text(max_length=150)


class _TransferGroupNode(_Transfer):
    group = Text(max_length=32)


class _TransferQueueNode(StrictSerializer):
    queue = queue_name()


class _SendSmsNode(StrictSerializer):
    to = Text(max_length=32, help_text='"caller", or an E.164 number.')
    body = Text(max_length=1600)
    next = node_id_field()

    def validate_to(self, value: str) -> str:
        return value if value == "caller" else StrictE164().run_validation(value)


class _AiAssistantNode(StrictSerializer):
    """The call is handed to an AI: one of the org's agents (`agentId`: our own media gateway, set up
    automatically) or a media stream the customer hosts (`url`, wss://, with `parameters`)."""

    agentId = Text(max_length=32, required=False)
    url = Text(max_length=1000, required=False)
    parameters = serializers.DictField(child=Text(max_length=500, allow_blank=True), required=False)
    next = node_id_field(required=False)

    def validate(self, attrs: dict) -> dict:
        if bool(attrs.get("agentId")) == bool(attrs.get("url")):
            raise serializers.ValidationError({"agentId": ["Give agentId (one of the org's agents) or url "
                                                           "(a wss:// media stream), not both."]})
        if attrs.get("agentId") and attrs.get("parameters"):
            raise serializers.ValidationError({"parameters": ["Parameters go with url; an agent's stream sets "
                                                              "its own."]})
        return attrs

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
    next = node_id_field()


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
    entry = node_id_field()
    nodes = serializers.DictField(allow_empty=False)
    fallback = node_id_field(required=False)
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
    errors = Errors()
    flow = errors.check(_Flow, value, "ivrFlow")
    errors.raise_if_any()
    if len(flow["nodes"]) > MAX_NODES:
        raise fail("ivrFlow.nodes", f"At most {MAX_NODES} nodes.")
    nodes: dict[str, dict] = {}
    users: dict[str, str] = {}
    groups: dict[str, str] = {}
    agents: dict[str, str] = {}
    for node_id, raw in flow["nodes"].items():
        path = f"ivrFlow.nodes.{node_id}"
        if not re.match(SLUG, node_id):
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
        elif node_type == "ai-assistant" and params.get("agentId"):
            agents[f"{path}.agentId"] = params["agentId"]
    _check_directory(errors, directory, users=users, groups=groups, agents=agents)
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


def _check_loops(errors: Errors, nodes: dict[str, dict]) -> None:
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
