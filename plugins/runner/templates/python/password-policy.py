"""{{name}}: a password policy. It asks for a long passphrase; change `check` to your rule.

Build: ./build.sh (needs componentize-py: pip install componentize-py).
Config (`key = value` lines, set by the operator at install): `min-length` (default 12).
"""

from typing import List, Optional

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports.password_rules import (
    PasswordContext,
    Verdict,
    Verdict_Accepted,
    Verdict_Rejected,
    Violation,
)
from wit_world.imports import log
from wit_world.imports.types import ConfigField, ConfigKind_Integer, IntegerSetting, PluginInfo


def min_length(config: str) -> int:
    """Reads the operator's config; every error message is shown to the operator as it is."""
    value = 12
    for number, line in enumerate(config.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        key, _, raw = (part.strip() for part in line.partition("="))
        if key != "min-length":
            raise ValueError(f"line {number}: unknown key `{key}`; the only key is `min-length`")
        if not raw.isdigit() or not 1 <= int(raw) <= 256:
            raise ValueError(f"line {number}: `min-length` is {raw}, expected 1 to 256")
        value = int(raw)
    return value


class PasswordRules(exports.PasswordRules):
    def info(self) -> PluginInfo:
        return PluginInfo(name="{{name}}", version="0.1.0", summary="Any passphrase of at least 12 characters")

    def validate_config(self, config: str) -> None:
        try:
            min_length(config)
        except ValueError as e:
            raise Err(str(e))

    def describe_config(self) -> Optional[List[ConfigField]]:
        """What `min_length` reads, so the operators' console shows a form instead of a text box."""
        return [
            ConfigField(
                key="min-length",
                label="Minimum length",
                help="The fewest characters a passphrase may have.",
                kind=ConfigKind_Integer(IntegerSetting(default=12, min=1, max=256)),
            )
        ]

    def check(self, config: str, password: str, context: PasswordContext) -> Verdict:
        least = min_length(config)
        if len(password) >= least:
            return Verdict_Accepted()
        # Never log the password itself: logs reach the operator.
        log.write(log.Level.DEBUG, f"{len(password)} characters, {least} needed")
        return Verdict_Rejected([
            Violation(code="too-short", message=f"Use at least {least} characters; a few words make a good passphrase.")
        ])

    def requirements(self, config: str) -> str:
        return f"Use at least {min_length(config)} characters; a few unrelated words make a strong, memorable passphrase."
