"""The one allow-list for stored HTML leaving govnews (exports, ``govnews extract``, viewers).

Its own module, free of SQLAlchemy, so ``govnews extract`` sanitises without loading the store.
"""

from __future__ import annotations

_ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "s",
    "sub",
    "sup",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "a",
    "img",
    "figure",
    "figcaption",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "th",
    "td",
    "caption",
    "div",
    "span",
    "hr",
    "pre",
    "code",
}
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}


_URL_ATTRIBUTES = {("a", "href"), ("img", "src")}
_SCHEMES = {"http", "https", "mailto"}


def sanitise_html(markup: str | None, base_url: str | None = None) -> str | None:
    """Allow-list sanitising: no scripts, handlers, styles, iframes, javascript:/data: URLs.

    ``base_url`` (the article's own URL): relative ``href``/``src`` are made absolute against it, as
    the portal's page resolved them; shown anywhere else (an export, ``govnews serve``) a relative
    ``/uploads/a.jpg`` would point at that host instead. A URL that resolves to a scheme outside
    the allow-list is dropped."""
    if not markup:
        return None
    import nh3

    resolve = None
    if base_url and base_url.lower().startswith(("http://", "https://")):
        from urllib.parse import urljoin, urlsplit

        def resolve(tag: str, attribute: str, value: str) -> str | None:
            # nh3 calls this after its scheme check: javascript: and data: never reach it
            if (tag, attribute) not in _URL_ATTRIBUTES or value.startswith("#"):
                return value  # a fragment stays a jump within the page showing it
            # as a browser reads an http(s) URL: tabs and newlines inside dropped, \ taken for /
            value = value.replace("\t", "").replace("\n", "").replace("\r", "").strip().replace("\\", "/")
            try:
                absolute = urljoin(base_url, value)
                scheme = urlsplit(absolute).scheme.lower()
            except ValueError:  # an unparseable URL (a bad IPv6 host): no link rather than a broken one
                return None
            return absolute if scheme in _SCHEMES else None

    return nh3.clean(
        markup,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        attribute_filter=resolve,
        url_schemes=_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
