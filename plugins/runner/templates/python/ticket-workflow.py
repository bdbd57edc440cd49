"""{{name}}: a ticket workflow with three statuses (open, waiting, closed); change `STATUSES`,
`can_transition` and `react` to your process. `react` answers every event on a request with
actions: here, a staff reply to an open request waits on the customer and sets two timers: one
reminds the customer by email after three days of silence, the other closes the request after a
week; the customer's reply opens it again and cancels both. A new request without a type whose
subject mentions an outage becomes an Incident (one of the types operators keep).

Build: ./build.sh (needs componentize-py: pip install componentize-py).
Config (`key = value` lines, set by the operator at install): `customers-close` (default
true): whether customers may close their own requests.
"""

from typing import List, Optional

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports.workflow import (
    Action,
    Action_CancelTimer,
    Action_SendEmail,
    Action_SetStatus,
    Action_SetTimer,
    Action_SetType,
    Email,
    EventContext,
    Request,
    RequestEvent,
    RequestEvent_Created,
    RequestEvent_CustomerReplied,
    RequestEvent_StaffReplied,
    RequestEvent_Timer,
    Status,
    Recipient_Requester,
    Timer,
    TransitionDecision,
    TransitionDecision_Allowed,
    TransitionDecision_Refused,
    TransitionRequest,
    Wording,
)
from wit_world.imports.types import ActorRole, ConfigField, ConfigKind_Boolean, PluginInfo

# Key, label, open, initial.
STATUSES = [
    ("open", "Open", True, True),
    ("waiting", "Waiting on customer", True, False),
    ("closed", "Closed", False, False),
]

# The timers a staff reply sets: one reminds the customer of a request still waiting on them,
# the other closes it.
REMIND = "remind"
CLOSE_IF_SILENT = "close-if-silent"


def customers_close(config: str) -> bool:
    """Reads the operator's config; every error message is shown to the operator as it is."""
    value = True
    for number, line in enumerate(config.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        key, _, raw = (part.strip() for part in line.partition("="))
        if key != "customers-close":
            raise ValueError(f"line {number}: unknown key `{key}`; the only key is `customers-close`")
        if raw not in ("true", "false"):
            raise ValueError(f"line {number}: `customers-close` is {raw}, expected true or false")
        value = raw == "true"
    return value


class Workflow(exports.Workflow):
    def info(self) -> PluginInfo:
        return PluginInfo(name="{{name}}", version="0.1.0", summary="Open, waiting on customer, closed")

    def validate_config(self, config: str) -> None:
        try:
            customers_close(config)
        except ValueError as e:
            raise Err(str(e))

    def describe_config(self) -> Optional[List[ConfigField]]:
        """What `customers_close` reads, so the operators' console shows a form instead of a text box."""
        return [
            ConfigField(
                key="customers-close",
                label="Customers may close",
                help="Let customers close their own requests.",
                kind=ConfigKind_Boolean(True),
            )
        ]

    def statuses(self, config: str) -> List[Status]:
        return [Status(key=k, label=l, open=o, initial=i) for (k, l, o, i) in STATUSES]

    def can_transition(self, config: str, request: TransitionRequest) -> TransitionDecision:
        if request.to not in [s[0] for s in STATUSES] or request.from_ == request.to:
            return TransitionDecision_Refused(f"Cannot move to {request.to!r}.")
        if request.actor in (ActorRole.CUSTOMER, ActorRole.SITE_ADMIN):
            if request.to == "closed" and customers_close(config):
                return TransitionDecision_Allowed()
            return TransitionDecision_Refused("Only staff can do that.")
        return TransitionDecision_Allowed()

    def on_event(self, config: str, context: EventContext) -> Optional[str]:
        """Asked only of workflows built against contracts older than 0.4: the host asks this one `react`."""
        return None

    def react(self, config: str, event: RequestEvent, request: Request) -> List[Action]:
        if isinstance(event, RequestEvent_Created) and request.request_type is None and "outage" in request.subject.lower():
            return [Action_SetType("Incident")]
        if isinstance(event, RequestEvent_StaffReplied) and request.status == "open":
            return [
                Action_SetStatus("waiting"),
                Action_SetTimer(Timer(name=REMIND, after_seconds=3 * 86400)),
                Action_SetTimer(Timer(name=CLOSE_IF_SILENT, after_seconds=7 * 86400)),
            ]
        if isinstance(event, RequestEvent_CustomerReplied) and request.status in ("waiting", "closed"):
            return [Action_SetStatus("open"), Action_CancelTimer(REMIND), Action_CancelTimer(CLOSE_IF_SILENT)]
        # The host fills in {name}, {number}, {subject} and {link}; add a wording per language
        # your customers read.
        if isinstance(event, RequestEvent_Timer) and event.value == REMIND and request.status == "waiting":
            wording = Wording(
                language="en",
                subject="Waiting for your answer: {subject}",
                body="Hello {name}, we are waiting for your answer to {number}. Without one, it closes in four days.",
            )
            return [Action_SendEmail(Email(to=[Recipient_Requester()], wordings=[wording]))]
        if isinstance(event, RequestEvent_Timer) and event.value == CLOSE_IF_SILENT and request.status == "waiting":
            return [Action_SetStatus("closed")]
        return []
