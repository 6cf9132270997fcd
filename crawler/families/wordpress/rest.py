"""The WordPress REST API (wp-includes/rest-api), when a site exposes it.

``<link rel="https://api.w.org/" href=…>`` names the API root: ``/wp-json/`` with
pretty permalinks, ``/?rest_route=/`` without. ``wp/v2/posts`` lists posts
newest first, 100 a page at most, the page count in ``X-WP-TotalPages``; with
``_embed`` every post carries its author's name and its terms. Per
post it gives what HTML often does not: ``date_gmt``, ``modified_gmt``, the
excerpt as rendered (hand-written or automatic -- the automatic one is the
content's first words and ``[&hellip;]``, told apart like a feed's), term names
and term links (whose paths give the category and tag bases).

A portal without the API (disabled by a security plugin, or absent from a replay)
is crawled from HTML alone; the API only adds hints.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from crawler.families.base import ApiResult
from crawler.text.blocks import parse_fragment
from crawler.text.normalise import clean_text
from crawler.text.vn_dates import parse_iso

PER_PAGE = 100  # the API's maximum
MAX_API_PAGES = 200  # 20,000 posts: beyond that the sitemaps and listings carry discovery
# ``?per_page=100&_embed`` is the form integrations and archivists request (the page count decides the rest);
# it embeds the author and the terms (and media, which are not read).


def posts_url(root: str, page: int = 1) -> str:
    """``wp/v2/posts`` under an API root, for both root forms."""
    parts = urlsplit(root)
    query = parse_qs(parts.query)
    params = {"per_page": str(PER_PAGE), "_embed": ""}
    if page > 1:
        params["page"] = str(page)
    if "rest_route" in query:
        route = query["rest_route"][0].rstrip("/") + "/wp/v2/posts"
        return urlunsplit(
            # plain permalinks: the same route answers at /?rest_route= and /index.php?rest_route=
            (
                parts.scheme,
                parts.netloc,
                (parts.path or "/").removesuffix("index.php") or "/",
                urlencode({"rest_route": route, **params}, safe="/"),
                "",
            )
        )
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((parts.scheme, parts.netloc, path + "wp/v2/posts", urlencode(params), ""))


def read_posts(url: str, body: bytes, headers: Any, excerpt_hint) -> tuple[ApiResult, list[tuple[str, str]]]:
    """(articles with hints, further pages) of one ``wp/v2/posts`` response, and the term links seen
    as (href, taxonomy). ``excerpt_hint`` turns rendered excerpt HTML into the family's excerpt hint."""
    result = ApiResult()
    term_links: list[tuple[str, str]] = []
    try:
        posts = json.loads(body.decode("utf-8", "replace"))
    except ValueError:
        return result, term_links
    if not isinstance(posts, list):
        return result, term_links
    for post in posts[:PER_PAGE]:
        if not isinstance(post, dict) or post.get("type", "post") != "post" or not isinstance(post.get("link"), str):
            continue
        hints: dict[str, Any] = {}
        published = _gmt(post.get("date_gmt")) or parse_iso(str(post.get("date") or ""))
        modified = _gmt(post.get("modified_gmt"))
        if published is not None:
            hints["published"] = published
        if modified is not None and published is not None and (modified - published).total_seconds() >= 60:
            hints["updated"] = modified
        excerpt = post.get("excerpt")
        if isinstance(excerpt, dict) and isinstance(excerpt.get("rendered"), str) and not excerpt.get("protected"):
            hints.update(excerpt_hint(parse_fragment(excerpt["rendered"])))
        embedded = post.get("_embedded") if isinstance(post.get("_embedded"), dict) else {}
        authors = embedded.get("author") or []
        if authors and isinstance(authors[0], dict) and isinstance(authors[0].get("name"), str):
            hints["author"] = clean_text(authors[0]["name"])
        for group in embedded.get("wp:term") or []:
            for term in group if isinstance(group, list) else []:
                if not isinstance(term, dict):
                    continue
                taxonomy, name = term.get("taxonomy"), clean_text(term.get("name"))
                if taxonomy == "category" and name:
                    hints.setdefault("categories", []).append(name)
                elif taxonomy == "post_tag" and name:
                    hints.setdefault("tags", []).append(name)
                if isinstance(term.get("link"), str) and taxonomy in ("category", "post_tag"):
                    term_links.append((term["link"], taxonomy))
        if isinstance(post.get("id"), int):
            hints["post_id"] = f"p:{post['id']}"
        result.articles.append((post["link"], hints))
    total = _int_header(headers, b"X-WP-TotalPages")
    page = int(parse_qs(urlsplit(url).query).get("page", ["1"])[0] or 1)
    if total and page == 1:
        root = _root_of(url)
        result.more = [posts_url(root, n) for n in range(2, min(total, MAX_API_PAGES) + 1)]
    return result, term_links


def _root_of(posts_page_url: str) -> str:
    parts = urlsplit(posts_page_url)
    query = parse_qs(parts.query)
    if "rest_route" in query:
        route = query["rest_route"][0].removesuffix("/wp/v2/posts") or "/"
        return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode({"rest_route": route}), ""))
    path = parts.path.removesuffix("wp/v2/posts")
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _gmt(value: Any):
    if not isinstance(value, str) or not value.strip():
        return None
    return parse_iso(value.strip().rstrip("Z") + "+00:00")


def _int_header(headers: Any, name: bytes) -> int | None:
    try:
        value = headers.get(name)
    except AttributeError:
        return None
    if not value:
        return None
    try:
        return int(value.decode("latin-1") if isinstance(value, bytes) else value)
    except ValueError:
        return None
