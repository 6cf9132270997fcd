"""NukeViet's URL space, as ``nv_url_rewrite()`` builds it, learned per site.

Every NukeViet link starts as ``index.php?language=<lang>&nv=<module>&op=<op>``
(includes/functions.php). With friendly URLs on (``rewrite_enable``) the core
rewrites it to ``/[<lang>/][<module>/]<op><rewrite_endurl>``:

- the language is left out when ``rewrite_optional`` is on (one language);
- the module is left out for the module named by ``rewrite_op_mod``;
- ``index.php/`` stays in front when the server has no rewrite file;
- ``rewrite_endurl`` ("/") ends every URL unless the op ends with
  ``rewrite_exturl`` (".html") or is a tag;
- other query parameters stay as ``?k=v`` (downloads, the theme switch).

The news module's ops (modules/news/functions.php): nothing or ``page-N`` is the
module home, ``<cat>`` / ``<cat>/page-N`` a category, ``<cat>/<alias>-<id>`` a
detail page (``id`` restarts in every news module and every language), and the
named ops ``rss``, ``tag``, ``topic``, ``groups``, ``search``, ``sendmail``,
``print``, ``savefile``, ``rating``, ``instant-rss``, ``content`` ...

Which modules exist, which are news modules (``module_file = news`` under any
name), which one is ``rewrite_op_mod``, the languages and the base path are
facts of a site: :class:`NvSite` holds them, learned from the sitemap index
(``sitemap-<lang>.<module>.xml``), RSS links (``/<module>/rss/``), the JavaScript
variables every page prints (``nv_module_name``, ``nv_func_name``,
``nv_lang_data``, ``nv_base_siteurl``), and the URLs of pages whose module is known.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from crawler.families.base import PageKind

# Ops of the news module that share its URL space but are not categories (modules/news/funcs/).
RESERVED_OPS = frozenset(
    [
        "rss",
        "tag",
        "topic",
        "topics",
        "groups",
        "search",
        "sendmail",
        "print",
        "savefile",
        "content",
        "author",
        "instant-rss",
        "rating",
        "viewcat",
        "detail",
        "main",
        "comment",
        "sitemap",
        "event",
        "user",
    ]
)
# Modules NukeViet and eGovernment ship that are never news modules (modules/ of both repositories).
SYSTEM_MODULES = frozenset(
    [
        "users",
        "contact",
        "statistics",
        "seek",
        "search",
        "feeds",
        "banners",
        "voting",
        "page",
        "about",
        "siteterms",
        "comment",
        "freecontent",
        "menu",
        "two-step-verification",
        "laws",
        "faq",
        "organs",
        "videoclips",
        "myapi",
        "zalo",
        "SitemapIndex",
    ]
)
# Language codes NukeViet ships or installs (includes/language/*): a first path segment that is one of
# these is a language prefix when the site's own languages are not known yet.
KNOWN_LANGUAGES = frozenset(
    ["vi", "en", "fr", "zh", "ja", "ko", "lo", "km", "th", "ru", "de", "es", "it", "pt", "id", "ms", "tw", "cn"]
)
MAX_MODULES = 500  # modules remembered per site (real sites have a few dozen)
_MODULE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")
_PAGE = re.compile(r"^page-(\d+)$")
_DETAIL = re.compile(r"^(?P<alias>[A-Za-z0-9][A-Za-z0-9-]*?)-(?P<id>\d+)(?P<ext>\.[A-Za-z0-9]{2,5})?$")
_SITEMAP_FILE = re.compile(r"^sitemap-(?P<lang>[a-z]{2})(?:\.(?P<module>[A-Za-z0-9-]+))?(?:\.[A-Za-z0-9-]+)?\.xml$")


@dataclass(frozen=True, slots=True)
class NvUrl:
    """A NukeViet URL taken apart: language, module (``None``: not resolvable yet), op segments."""

    lang: str | None
    module: str | None
    op: tuple[str, ...]
    home: bool = False
    extra_query: bool = False
    sitemap: bool = False


@dataclass
class NvSite:
    """What a NukeViet site has shown of its configuration."""

    base_path: str = "/"
    languages: set[str] = field(default_factory=set)
    lang_in_url: bool | None = None
    op_mod: str | None = None
    """The module whose name ``rewrite_op_mod`` drops from its URLs."""
    home_module: str | None = None
    default_lang: str | None = None
    """The language of the home page without a language prefix (the site's default)."""
    news_modules: set[str] = field(default_factory=set)
    other_modules: set[str] = field(default_factory=set)
    rewrite: bool | None = None
    """Friendly URLs on (True), the query form (False), not known yet (None)."""
    hinted: set[str] = field(default_factory=set)
    """News modules named by hints only (registry options, the stock name), not yet seen on the site."""

    # -- parsing ---------------------------------------------------------------
    def parse(self, url: str) -> NvUrl | None:
        """Take ``url`` apart; ``None`` for what is no NukeViet page address (the theme switch ...)."""
        parts = urlsplit(url)
        path = unquote(parts.path)
        base = self.base_path if self.base_path.startswith("/") else "/"
        if base != "/" and path.startswith(base):
            path = "/" + path[len(base) :]
        segments = [s for s in path.split("/") if s]
        if segments and segments[0] == "index.php":
            segments = segments[1:]
            if not segments:
                return self._query_form(parts.query)
        if not segments and parts.query:
            return self._query_form(parts.query)
        if segments and _SITEMAP_FILE.match(segments[-1]) or segments == ["sitemap.xml"]:
            return NvUrl(None, None, tuple(segments), sitemap=True)
        lang = None
        if segments and self._is_language(segments[0]):
            lang, segments = segments[0], segments[1:]
        extra = bool(parts.query)
        if not segments:
            return NvUrl(lang, self.home_module, (), home=True, extra_query=extra)
        first = segments[0]
        if first in self.news_modules or first in self.other_modules or first in SYSTEM_MODULES:
            return NvUrl(lang, first, tuple(segments[1:]), extra_query=extra)
        if self.op_mod:
            return NvUrl(lang, self.op_mod, tuple(segments), extra_query=extra)
        return NvUrl(lang, None, tuple(segments), extra_query=extra)

    def _query_form(self, query: str) -> NvUrl | None:
        values = parse_qs(query, keep_blank_values=True)
        keys = set(values)
        lang = (values.get("language") or [None])[0]
        if "nv" not in values:
            if keys <= {"language"}:
                return NvUrl(lang, self.home_module, (), home=True)
            return None  # the theme switch (?nvvithemever=…&nv_redirect=…), redirects, captchas
        module = values["nv"][0]
        op = [s for s in (values.get("op") or [""])[0].split("/") if s]
        if "/" in module:  # nv=news/cat/alias-1: the name carries the op
            module, *rest = [s for s in module.split("/") if s] or [""]
            op = rest + op
        if module == "SitemapIndex" or (op and op[0] == "sitemap"):
            return NvUrl(lang, module, tuple(op), sitemap=True)
        extra = bool(keys - {"language", "nv", "op"})
        return NvUrl(lang, module if _MODULE_NAME.match(module) else None, tuple(op), extra_query=extra)

    def _is_language(self, segment: str) -> bool:
        if segment in self.languages:
            return self.lang_in_url is not False
        return self.lang_in_url is not False and segment in KNOWN_LANGUAGES and segment not in self.news_modules

    # -- classification ------------------------------------------------------------
    def classify(self, url: str) -> PageKind:
        nv = self.parse(url)
        if nv is None:
            return PageKind.OTHER
        if nv.sitemap:
            return PageKind.SITEMAP
        if nv.home:
            return PageKind.OTHER if nv.extra_query else PageKind.LISTING
        if nv.module is None:
            return PageKind.UNKNOWN
        if nv.module not in self.news_modules:
            if nv.module in self.other_modules or nv.module in SYSTEM_MODULES or nv.module == self.op_mod:
                return PageKind.OTHER
            return PageKind.UNKNOWN
        return news_op_kind(nv.op, nv.extra_query)

    def article_key(self, url: str) -> str | None:
        nv = self.parse(url)
        if nv is None or nv.module is None or len(nv.op) != 2:
            return None
        match = _DETAIL.match(nv.op[1])
        if not match or nv.op[0] in RESERVED_OPS:
            return None
        # ids restart per module and per language; the site's default language needs no prefix, so a
        # friendly URL and the query form (which always names the language) give the same key
        prefix = f"{nv.lang}/" if nv.lang and nv.lang != (self.default_lang or "vi") else ""
        return f"{prefix}{nv.module}:{match.group('id')}"

    def category_alias(self, url: str) -> str | None:
        nv = self.parse(url)
        if nv is None or nv.module is None or len(nv.op) != 2 or not _DETAIL.match(nv.op[1]):
            return None
        return nv.op[0]

    def listing_alias(self, url: str) -> tuple[str, str] | None:
        """(module, category alias) when ``url`` is a category listing of a news module."""
        nv = self.parse(url)
        if nv is None or nv.module not in self.news_modules or nv.extra_query or not nv.op:
            return None
        alias = nv.op[0]
        if alias in RESERVED_OPS or _PAGE.match(alias) or "." in alias or len(nv.op) > 2:
            return None
        if len(nv.op) == 2 and not _PAGE.match(nv.op[1]):
            return None
        return nv.module, alias

    # -- learning --------------------------------------------------------------------
    def note_module(self, module: str, *, news: bool | None = None, hint: bool = False) -> None:
        """What a page, sitemap or feed showed of a module; ``hint``: only a registry option or the stock
        name, used to classify but not reported as learned until the site confirms it."""
        if not module or not _MODULE_NAME.match(module) or module in RESERVED_OPS or len(module) > 100:
            return
        if len(self.news_modules) + len(self.other_modules) >= MAX_MODULES and module not in self.news_modules:
            return  # a hostile sitemap index cannot grow the profile without bound
        if news and hint:
            if module not in self.news_modules:
                self.hinted.add(module)
            self.news_modules.add(module)
            return
        if news:
            self.hinted.discard(module)
            self.news_modules.add(module)
            self.other_modules.discard(module)
        elif news is False and module not in self.news_modules:
            self.other_modules.add(module)
        elif module not in self.news_modules and module not in self.other_modules and news is None:
            pass  # exists, type unknown: nothing to record until its pages say

    def note_language(self, lang: str | None, in_url: bool | None = None) -> None:
        if lang and re.match(r"^[a-z]{2}$", lang):
            self.languages.add(lang)
        if in_url is not None and self.lang_in_url is None:
            self.lang_in_url = in_url

    def note_page(self, url: str, module: str, func: str | None, lang: str | None) -> None:
        """A page at ``url`` says (JavaScript variables) it belongs to ``module``: is the name in its URL?"""
        parts = urlsplit(url)
        if "nv=" in parts.query:
            self.rewrite = False
            self.note_language(lang, in_url=True)
            return
        path = unquote(parts.path)
        base = self.base_path if self.base_path != "/" and path.startswith(self.base_path) else "/"
        segments = [s for s in path[len(base) :].split("/") if s]
        if segments and segments[0] == "index.php":
            segments = segments[1:]
        prefixed = bool(segments and lang and segments[0] == lang)
        if prefixed:
            segments = segments[1:]
            self.note_language(lang, in_url=True)
        else:
            self.note_language(lang)
        if not segments:
            if not parts.query:
                self.home_module = module
                if not prefixed and lang:
                    self.default_lang = lang
            return
        self.rewrite = True
        if segments[0] == module:
            if self.op_mod == module:
                self.op_mod = None  # the site changed: the module is named again
        elif segments[0] not in self.news_modules | self.other_modules | SYSTEM_MODULES:
            self.op_mod = module  # a page of the module whose URL does not name it: rewrite_op_mod

    def note_rss(self, feed_url: str, page_module: str | None) -> None:
        """``<link rel=alternate>`` of a news module: ``/<module>/rss/`` or, without the name, ``/rss/``."""
        nv = self.parse(feed_url)
        if nv is None:
            return
        op = list(nv.op)
        if nv.module is not None and op[:1] == ["rss"]:
            self.note_module(nv.module, news=True)
            return
        segments = [s for s in urlsplit(feed_url).path.split("/") if s]
        if segments and segments[0] == "index.php":
            segments = segments[1:]
        if segments and self._is_language(segments[0]):
            segments = segments[1:]
        if segments[:1] == ["rss"] and page_module:
            self.op_mod = page_module
            self.note_module(page_module, news=True)
        elif len(segments) >= 2 and segments[1] == "rss":
            self.note_module(segments[0], news=True)

    def note_sitemap_index_entry(self, sitemap_url: str) -> str | None:
        """``sitemap-<lang>.<module>.xml``: the module exists; returns its name."""
        name = [s for s in urlsplit(sitemap_url).path.split("/") if s][-1:]
        match = _SITEMAP_FILE.match(name[0]) if name else None
        if match:
            self.note_language(match.group("lang"))
            if match.group("module"):
                return match.group("module")
        query = parse_qs(urlsplit(sitemap_url).query)
        if query.get("op", [""])[0].startswith("sitemap") and query.get("nv"):
            self.note_language((query.get("language") or [None])[0])
            return query["nv"][0]
        return None

    def note_module_urls(self, module: str, urls: list[str]) -> bool:
        """Entries of the module's own sitemap: news detail shapes make it a news module; their
        paths say whether its name is in its URLs. True when it is a news module."""
        details = 0
        named = dropped = 0
        for url in urls[:200]:
            parts = urlsplit(url)
            segments = [unquote(s) for s in parts.path.split("/") if s]
            if segments and segments[0] == "index.php":
                segments = segments[1:]
            if segments and self._is_language(segments[0]):
                segments = segments[1:]
            if "nv=" in parts.query:
                query = parse_qs(parts.query)
                op = [s for s in (query.get("op") or [""])[0].split("/") if s]
                if len(op) == 2 and _DETAIL.match(op[1]):
                    details += 1
                    named += 1
                continue
            if segments[:1] == [module]:
                named += 1
                rest = segments[1:]
            else:
                dropped += 1
                rest = segments
            if len(rest) == 2 and _DETAIL.match(rest[1]) and rest[0] not in RESERVED_OPS:
                details += 1
        if not urls:
            return module in self.news_modules
        if details * 2 >= min(len(urls), 200):
            self.note_module(module, news=True)
            if dropped > named:
                self.op_mod = module
            return True
        self.note_module(module, news=False)
        return False

    # -- persistence -----------------------------------------------------------------
    def facts(self) -> dict[str, Any]:
        return {
            "base_path": self.base_path,
            "languages": sorted(self.languages),
            "lang_in_url": self.lang_in_url,
            "rewrite": self.rewrite,
            "op_mod": self.op_mod,
            "home_module": self.home_module,
            "default_lang": self.default_lang,
            "news_modules": sorted(self.news_modules - self.hinted),
            "other_modules": sorted(self.other_modules),
        }

    def apply(self, facts: dict[str, Any]) -> None:
        base = facts.get("base_path")
        if isinstance(base, str) and base.startswith("/"):
            self.base_path = base if base.endswith("/") else base + "/"
        self.languages |= {s for s in facts.get("languages") or [] if isinstance(s, str)}
        for name in ("lang_in_url", "rewrite"):
            if isinstance(facts.get(name), bool) and getattr(self, name) is None:
                setattr(self, name, facts[name])
        for name in ("op_mod", "home_module", "default_lang"):
            if isinstance(facts.get(name), str) and getattr(self, name) is None:
                setattr(self, name, facts[name])
        for module in facts.get("news_modules") or []:
            self.note_module(str(module), news=True)
        for module in facts.get("other_modules") or []:
            self.note_module(str(module), news=False)


def news_op_kind(op: tuple[str, ...], extra_query: bool = False) -> PageKind:
    """What an op of a news module shows (modules/news/functions.php)."""
    if extra_query:
        return PageKind.OTHER  # ?download=1, ?nvvithemever=…, print and share variants
    if not op or (len(op) == 1 and _PAGE.match(op[0])):
        return PageKind.LISTING
    if op[0] == "rss":
        return PageKind.FEED
    if op[0] in RESERVED_OPS:
        return PageKind.OTHER
    if len(op) == 1:
        return PageKind.OTHER if "." in op[0] else PageKind.LISTING
    if len(op) == 2 and _PAGE.match(op[1]):
        return PageKind.LISTING
    if len(op) == 2 and _DETAIL.match(op[1]):
        return PageKind.ARTICLE
    return PageKind.OTHER
