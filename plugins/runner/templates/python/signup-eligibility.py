"""{{name}}: who may sign up. A visitor is eligible for every candidate site (a site whose
domain or address list matches the email) that has a licence free; change `decide` to your rule.

Build: ./build.sh (needs componentize-py: pip install componentize-py).
Config (`key = value` lines, set by the operator at install): `review-when-full` (default
false): ask staff to review instead of refusing when every candidate is out of licences.
"""

from typing import List, Optional

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports.eligibility import (
    Decision,
    Decision_Eligible,
    Decision_Ineligible,
    Decision_NeedsReview,
    EligibilityRequest,
)
from wit_world.imports.types import ConfigField, ConfigKind_Boolean, PluginInfo


def review_when_full(config: str) -> bool:
    """Reads the operator's config; every error message is shown to the operator as it is."""
    value = False
    for number, line in enumerate(config.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        key, _, raw = (part.strip() for part in line.partition("="))
        if key != "review-when-full":
            raise ValueError(f"line {number}: unknown key `{key}`; the only key is `review-when-full`")
        if raw not in ("true", "false"):
            raise ValueError(f"line {number}: `review-when-full` is {raw}, expected true or false")
        value = raw == "true"
    return value


class Eligibility(exports.Eligibility):
    def info(self) -> PluginInfo:
        return PluginInfo(name="{{name}}", version="0.1.0", summary="Sign-up for sites that match the email and have a licence free")

    def validate_config(self, config: str) -> None:
        try:
            review_when_full(config)
        except ValueError as e:
            raise Err(str(e))

    def describe_config(self) -> Optional[List[ConfigField]]:
        """What `review_when_full` reads, so the operators' console shows a form instead of a text box."""
        return [
            ConfigField(
                key="review-when-full",
                label="Review when full",
                help="Ask staff to review a sign-up, instead of refusing it, when every matching site is out of licences.",
                kind=ConfigKind_Boolean(False),
            )
        ]

    def decide(self, config: str, request: EligibilityRequest) -> Decision:
        if not request.candidates:
            return Decision_Ineligible(f"No customer site is registered for {request.domain}.")
        open_sites = [c.site_id for c in request.candidates if c.active_licences > 0]
        if open_sites:
            return Decision_Eligible(open_sites)
        if review_when_full(config):
            return Decision_NeedsReview("Every matching site is out of licences.")
        return Decision_Ineligible("Every matching site is out of licences.")
