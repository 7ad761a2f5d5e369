"""XML text escaping for the Query protocol's responses.

Responses are built by string concatenation (see ``query.py``), so escaping is the one place where a value can
break the document. XML 1.0 cannot carry most C0 control characters at all, not even as character references, and
a conforming parser (botocore's) rejects the whole response if one appears; they are replaced with U+FFFD rather
than letting one stored value make every listing that includes it unreadable. ``\\r`` is written as a character
reference because XML parsers normalise a literal CR (and CRLF) to LF.
"""

from __future__ import annotations

import re

_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

#: ``NEEDS_ESCAPE(s) is None`` means ``s`` can be written as element content unchanged (a C call, for hot paths).
NEEDS_ESCAPE = _SPECIAL.search
_REPLACEMENTS = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#xD;"}


def _replace(match: re.Match[str]) -> str:
    return _REPLACEMENTS.get(match.group(), "\ufffd")


def escape_text(value: str) -> str:
    """``value`` made safe as XML element content (also safe in a double-quoted attribute only if it has no ``"``)."""
    if _SPECIAL.search(value) is None:
        return value
    return _SPECIAL.sub(_replace, value)


def escape_attribute(value: str) -> str:
    """``value`` made safe inside a double-quoted XML attribute."""
    return escape_text(value).replace('"', "&quot;")
