"""A password written inside a connection URL (`postgresql://user:secret@db/app`, `redis://:pw@kv:6379`),
whatever the variable that holds it is called: shared by the compose and the Kubernetes secret rules."""

from __future__ import annotations

import re

# scheme://[user]:password@host: the userinfo of RFC 3986 (a password may hold a raw `@`: up to the last one).
_URL_WITH_PASSWORD = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*)://([^\s/?#@:]*):([^\s/?#]+)@[^\s/?#@]")
# Values that stand for a secret without being one: <placeholder>, CHANGE-ME, REDACTED, your-password...
PLACEHOLDER = re.compile(r"^<.*>$|^\$\{.*\}$|REDACTED|CHANGE[-_ ]?ME|REPLACE|PLACEHOLDER|TODO|FIXME|XXX|"
                         r"\bPUT\b.*\bHERE\b|\bYOUR[-_ ]|EXAMPLE", re.IGNORECASE)
# ... and, in a URL, a variable filled in later ($VAR, ${VAR}, $(VAR)), a template, or a run such as ***.
_REFERENCE = re.compile(r"\$\{?\(?[A-Za-z_]|\{\{|^(.)\1{2,}$")


def url_password(text: str) -> str | None:
    """The scheme of the first URL in `text` whose userinfo holds a literal password, else None."""
    for match in _URL_WITH_PASSWORD.finditer(text):
        password = match.group(3)
        if not _REFERENCE.search(password) and not PLACEHOLDER.search(password):
            return match.group(1).lower()
    return None
