"""The one placeholder syntax of templates/: @NAME@ (upper case). It cannot clash with
what the templates themselves contain: shell `${var}`, systemd `%` specifiers and
`${VAR}` expansion, or plist XML. Values arrive already escaped for their place."""
import re
from typing import Dict

PLACEHOLDER = re.compile(r"@([A-Z][A-Z_]*)@")


def fill(text: str, values: Dict[str, str], name: str) -> str:
    """text with every @NAME@ replaced; a placeholder without a value is a bug in the
    toolkit (a template and its renderer out of step), so it raises."""
    def value(match: "re.Match[str]") -> str:
        if match.group(1) not in values:
            raise RuntimeError(f"template {name} has a placeholder without a value: {match.group(0)}")
        return values[match.group(1)]
    return PLACEHOLDER.sub(value, text)
