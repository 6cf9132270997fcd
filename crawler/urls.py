"""URL canonicalisation: one key for every spelling of the same address.

Portals link one page as http and https, with and without ``www.``, with
``:443``, a trailing slash, a fragment, ``utm_*``/``fbclid`` tails, percent-
encoded or raw Vietnamese letters in NFD or NFC. :func:`url_key` folds all of
these, so the store finds an article again whichever spelling a link used.
Platform-level aliases (NukeViet ``index.php?nv=news&op=…``, WordPress
``?p=ID``) are resolved by the families' article ids, not here.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

_TRACKING = re.compile(
    r"^(?:utm_\w+|fbclid|gclid|dclid|msclkid|yclid|zarsrc|zalo_\w+|_ga|_gl|mc_cid|mc_eid|igshid|"
    r"ref_src|spm|share|from|fb_action_ids|fb_action_types|fb_source)$",
    re.IGNORECASE,
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def _path(path: str) -> str:
    text = unicodedata.normalize("NFC", unquote(path))
    text = re.sub(r"/{2,}", "/", text)
    quoted = quote(text, safe=_PATH_SAFE)
    return quoted.rstrip("/") or "/"


def canonicalize(url: str) -> str:
    """The URL with scheme and host lower-cased, ``www.`` and default ports dropped, the path
    NFC and uniformly percent-encoded without a trailing slash, tracking parameters removed,
    the rest of the query sorted, and no fragment."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    host = host[4:] if host.startswith("www.") else host
    try:
        host = host.encode("idna").decode("ascii") if host and not host.isascii() else host
    except UnicodeError:
        pass
    netloc = host
    if parts.port and parts.port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{host}:{parts.port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)]
    return urlunsplit((scheme, netloc, _path(parts.path), urlencode(sorted(query), doseq=True), ""))


def url_key(url: str) -> str:
    """:func:`canonicalize` without the scheme: http and https spell the same article."""
    return canonicalize(url).split("://", 1)[-1]
