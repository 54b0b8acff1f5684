"""Jinja filters that turn free-text answers into safe literals.

`literal` renders a value as a double-quoted string that is valid in TOML, YAML and Python at
once: JSON escaping with the non-ASCII characters kept (TOML rejects the surrogate pairs that
`ensure_ascii=True` would write for an emoji) and DEL and the C1 controls escaped, which
JSON leaves raw and TOML and YAML refuse.
"""

import json
import re
from typing import Any

from jinja2.ext import Extension

_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029]")


def literal(value: Any) -> str:
    """Return `value` as a double-quoted TOML/YAML/Python string literal."""
    text = json.dumps(str(value), ensure_ascii=False)
    return _UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


class LiteralExtension(Extension):
    """Registers the `literal` filter."""

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        environment.filters["literal"] = literal
