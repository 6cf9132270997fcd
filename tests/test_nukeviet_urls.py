"""NukeViet's URL space in every mode ``nv_url_rewrite()`` can print (includes/functions.php, 4.5.05).

The modes, from NukeViet's own source and installer defaults: query form (friendly URLs off),
``index.php/`` (no rewrite file), language prefix (``rewrite_optional`` off, always on
multi-language sites), module name in the path, module name dropped (``rewrite_op_mod``, the
installer's default on a single-language site), a sub-directory install. Facts a site declares
(sitemap index names, RSS links, the pages' own JavaScript variables) are learned, not configured.
"""

from __future__ import annotations

import pytest
from parsel import Selector

from crawler.discovery import Entry
from crawler.families.base import PageKind
from crawler.families.nukeviet import NukeViet, page_variables
from crawler.families.nukeviet.urls import NvSite

H = "https://h.gov.vn"
ARTICLE, LISTING, FEED, SITEMAP, OTHER, UNKNOWN = (
    PageKind.ARTICLE,
    PageKind.LISTING,
    PageKind.FEED,
    PageKind.SITEMAP,
    PageKind.OTHER,
    PageKind.UNKNOWN,
)


def site(**facts) -> NvSite:
    nv = NvSite()
    nv.apply(facts)
    return nv


# mode D: module in the path (khxhnvnghean, sotnmt)
NAMED = site(news_modules=["news", "thong-bao"])
# mode E: rewrite_op_mod = news (skhcn; the installer's default for one language)
DROPPED = site(news_modules=["news"], op_mod="news", other_modules=["about", "siteterms"])
# mode C: several languages, each with its news module
MULTI = site(news_modules=["news", "tin-tuc"], languages=["vi", "en"], lang_in_url=True, default_lang="vi")
SUBDIR = site(news_modules=["news"], base_path="/portal/")


@pytest.mark.parametrize(
    ("nv", "path", "kind"),
    [
        # module named in the path
        (NAMED, "/news/", LISTING),
        (NAMED, "/news/page-2/", LISTING),
        (NAMED, "/news/tin-tuc/", LISTING),
        (NAMED, "/news/tin-tuc/page-3/", LISTING),
        (NAMED, "/news/tin-tuc/bai-viet-12.html", ARTICLE),
        (NAMED, "/news/tin-tuc/bai-viet-12/", ARTICLE),  # the groups list prints details without .html
        (NAMED, "/thong-bao/lich-tiep-dan/lich-thang-5-3.html", ARTICLE),  # a second news module
        (NAMED, "/news/rss/", FEED),
        (NAMED, "/news/rss/tin-tuc/", FEED),
        (NAMED, "/news/tag/chuyển-đổi-số", OTHER),
        (NAMED, "/news/topic/bau-cu/", OTHER),
        (NAMED, "/news/groups/tin-noi-bat/", OTHER),
        (NAMED, "/news/author/nguyen-van-a/", OTHER),
        (NAMED, "/news/search/?q=x", OTHER),
        (NAMED, "/news/print/tin-tuc/bai-viet-12.html", OTHER),
        (NAMED, "/news/savefile/tin-tuc/bai-viet-12.html", OTHER),
        (NAMED, "/news/sendmail/tin-tuc/bai-viet-12.html", OTHER),
        (NAMED, "/news/viewcat/", OTHER),  # "Stop!!!"
        (NAMED, "/news/tin-tuc/bai-viet-12.html?download=1&id=0", OTHER),
        (NAMED, "/news/tin-tuc/bai-viet-12.html?pdf=1&id=0", OTHER),
        (NAMED, "/news/?nvvithemever=d&nv_redirect=abc%2C", OTHER),  # the theme switch
        (NAMED, "/?nvvithemever=m&nv_redirect=abc", OTHER),
        (NAMED, "/users/login/?nv_redirect=abc", OTHER),
        (NAMED, "/about/gioi-thieu-4-0.html", OTHER),
        (NAMED, "/sitemap.xml", SITEMAP),
        (NAMED, "/sitemap-vi.news.xml", SITEMAP),
        (NAMED, "/", LISTING),
        (NAMED, "/khong-ro/bai-viet-12.html", UNKNOWN),  # a module not learned yet: the page will say
        # module name dropped (rewrite_op_mod)
        (DROPPED, "/tin-hoat-dong/", LISTING),
        (DROPPED, "/tin-hoat-dong/page-2/", LISTING),
        (DROPPED, "/tin-hoat-dong/so-khcn-tong-ket-1.html", ARTICLE),
        (DROPPED, "/page-2/", LISTING),
        (DROPPED, "/rss/", FEED),
        (DROPPED, "/rss/tin-hoat-dong/", FEED),
        (DROPPED, "/tag/chuyển-đổi-số", OTHER),
        (DROPPED, "/savefile/tin-hoat-dong/so-khcn-tong-ket-1.html", OTHER),
        (DROPPED, "/about/gioi-thieu-ve-nukeviet.html", OTHER),  # another module's page, not a category
        (DROPPED, "/about/ke-hoach-2024.html", OTHER),
        (DROPPED, "/users/register/", OTHER),
        (DROPPED, "/seek/?q=x", OTHER),
        # languages in the path
        (MULTI, "/vi/news/tin-tuc/bai-viet-12.html", ARTICLE),
        (MULTI, "/en/news/events/forum-12.html", ARTICLE),
        (MULTI, "/vi/tin-tuc/", LISTING),
        (MULTI, "/en/news/rss/", FEED),
        (MULTI, "/vi/", LISTING),
        (MULTI, "/en/about/", OTHER),
        # friendly URLs without a rewrite file: index.php/ stays in front
        (NAMED, "/index.php/news/tin-tuc/bai-viet-12.html", ARTICLE),
        (MULTI, "/index.php/vi/news/tin-tuc/", LISTING),
        # a site installed in a sub-directory
        (SUBDIR, "/portal/news/tin-tuc/bai-viet-12.html", ARTICLE),
        (SUBDIR, "/portal/news/tin-tuc/", LISTING),
        # the query form (friendly URLs off), as pages print it
        (NAMED, "/index.php?language=vi&nv=news&op=tin-tuc/bai-viet-12.html", ARTICLE),
        (NAMED, "/index.php?language=vi&nv=news&op=tin-tuc/bai-viet-12", ARTICLE),
        (NAMED, "/index.php?language=vi&nv=news&op=tin-tuc", LISTING),
        (NAMED, "/index.php?language=vi&nv=news&op=tin-tuc/page-2", LISTING),
        (NAMED, "/index.php?language=vi&nv=news", LISTING),
        (NAMED, "/index.php?language=vi&nv=news&op=rss/tin-tuc", FEED),
        (NAMED, "/index.php?language=vi&nv=news&op=tag/abc", OTHER),
        (NAMED, "/index.php?language=vi&nv=news&op=tin-tuc/bai-viet-12.html&download=1&id=0", OTHER),
        (NAMED, "/index.php?language=vi&nv=news/tin-tuc/bai-viet-12.html", ARTICLE),
        (NAMED, "/index.php?language=vi&nv=users&op=login", OTHER),
        (NAMED, "/index.php?language=vi", LISTING),
        (NAMED, "/index.php?nv=SitemapIndex", SITEMAP),
        (NAMED, "/index.php?language=vi&nv=news&op=sitemap", SITEMAP),
        (NAMED, "/index.php?second=cronjobs&p=123", OTHER),
        (NAMED, "/index.php?scaptcha=captcha&t=1", OTHER),
    ],
)
def test_classify(nv, path, kind):
    assert nv.classify(H + path) is kind


@pytest.mark.parametrize(
    ("nv", "urls", "key"),
    [
        (
            NAMED,
            [
                "/news/a/hoi-thao-15.html",
                "/news/b/hoi-thao-15.html",
                "/index.php?language=vi&nv=news&op=a/hoi-thao-15.html",
            ],
            "news:15",
        ),
        (NAMED, ["/thong-bao/a/lich-15.html"], "thong-bao:15"),  # ids restart per module
        (
            DROPPED,
            ["/a/hoi-thao-15.html", "/b/hoi-thao-15.html", "/index.php?language=vi&nv=news&op=a/hoi-thao-15"],
            "news:15",
        ),
        (MULTI, ["/vi/news/a/hoi-thao-15.html"], "news:15"),  # the default language needs no prefix
        (MULTI, ["/en/news/a/forum-15.html", "/index.php?language=en&nv=news&op=a/forum-15.html"], "en/news:15"),
    ],
)
def test_article_key_is_module_language_and_id(nv, urls, key):
    assert {nv.article_key(H + u) for u in urls} == {key}


def test_sitemap_index_names_modules_and_their_sitemaps_say_which_are_news():
    family = NukeViet()
    index = [Entry(f"{H}/sitemap-vi.{m}.xml", is_sitemap=True) for m in ("about", "tin-tuc", "siteterms")]
    family.learn_sitemap(f"{H}/sitemap.xml", index)
    family.learn_sitemap(f"{H}/sitemap-vi.tin-tuc.xml", [Entry(f"{H}/tin-tuc/dat-dai/bai-{i}.html") for i in (1, 2)])
    family.learn_sitemap(f"{H}/sitemap-vi.about.xml", [Entry(f"{H}/about/gioi-thieu.html")])
    assert "tin-tuc" in family.site.news_modules
    assert "about" in family.site.other_modules
    assert family.classify(f"{H}/tin-tuc/dat-dai/bai-3.html") is ARTICLE
    assert family.classify(f"{H}/tin-tuc/dat-dai/") is LISTING
    assert family.facts()["languages"] == ["vi"]


def test_a_module_sitemap_without_its_name_in_the_urls_is_rewrite_op_mod():
    family = NukeViet()
    family.learn_sitemap(f"{H}/sitemap-vi.news.xml", [Entry(f"{H}/tin-hoat-dong/bai-{i}.html") for i in range(5)])
    assert family.site.op_mod == "news"
    assert family.classify(f"{H}/tin-hoat-dong/") is LISTING
    assert family.classify(f"{H}/tin-hoat-dong/bai-9.html") is ARTICLE


@pytest.mark.parametrize(
    ("url", "rss", "module", "op_mod"),
    [
        (f"{H}/news/", "/news/rss/", "news", None),
        (f"{H}/", "/rss/", "news", "news"),  # the home module with its name dropped
        (f"{H}/vi/tin-tuc/", "/vi/tin-tuc/rss/", "tin-tuc", None),
    ],
)
def test_rss_links_and_page_variables_name_the_news_modules(url, rss, module, op_mod):
    html = f"""<html><head><link rel="alternate" href="{rss}" type="application/rss+xml" title="Tin tức">
    </head><body><script>var nv_base_siteurl="/",nv_lang_data="vi",nv_module_name="{module}",
    nv_func_name="main",nv_my_ofs=7;</script></body></html>"""
    family = NukeViet({"modules": []})
    family.learn(Selector(text=html), url)
    assert module in family.site.news_modules
    assert family.site.op_mod == op_mod


def test_a_page_of_a_module_whose_url_lacks_its_name_teaches_rewrite_op_mod():
    html = """<html><body><div itemscope itemtype="http://schema.org/NewsArticle"></div><script>
    var nv_base_siteurl="/",nv_lang_data="vi",nv_module_name="news",nv_func_name="detail",nv_my_ofs=7;
    </script></body></html>"""
    family = NukeViet({"modules": []})
    family.learn(Selector(text=html), f"{H}/chuyen-doi-so/ung-dung-ai-18.html")
    assert family.site.op_mod == "news"
    assert family.classify(f"{H}/khoi-nghiep/ung-dung-ai-18.html") is ARTICLE


def test_page_variables_are_read_from_the_inline_script():
    html = """<script>var nv_base_siteurl="/portal/",nv_lang_data="en",nv_lang_interface="en",
    nv_name_variable="nv",nv_fc_variable="op",nv_lang_variable="language",nv_module_name="tin-tuc",
    nv_func_name="viewcat",nv_is_user=0, nv_my_ofs=-5,nv_my_abbr="EST";</script>"""
    assert page_variables(Selector(text=html)) == {
        "nv_base_siteurl": "/portal/",
        "nv_lang_data": "en",
        "nv_module_name": "tin-tuc",
        "nv_func_name": "viewcat",
        "nv_my_ofs": "-5",
    }


@pytest.mark.parametrize(
    ("func", "module", "kind"),
    [
        ("detail", "news", ARTICLE),
        ("viewcat", "news", LISTING),
        ("main", "news", LISTING),
        ("tag", "news", OTHER),
        ("main", "about", OTHER),
        ("search", "news", OTHER),
    ],
)
def test_a_page_says_what_it_is(func, module, kind):
    html = f'<script>var nv_module_name="{module}",nv_func_name="{func}";</script>'
    assert NukeViet().page_kind(Selector(text=html), f"{H}/x/") is kind


def test_registry_hints_do_not_cage_learning():
    family = NukeViet({"modules": ["news"], "module_in_url": True})
    family.learn_sitemap(f"{H}/sitemap-vi.tin-tuc.xml", [Entry(f"{H}/tin-tuc/dat-dai/bai-{i}.html") for i in (1, 2)])
    assert {"news", "tin-tuc"} <= family.site.news_modules
    assert family.classify(f"{H}/tin-tuc/dat-dai/bai-7.html") is ARTICLE


def test_a_hostile_sitemap_index_cannot_grow_the_profile_without_bound():
    from crawler.families.nukeviet.urls import MAX_MODULES

    family = NukeViet()
    index = [Entry(f"{H}/sitemap-vi.m{i}.xml", is_sitemap=True) for i in range(MAX_MODULES * 3)]
    family.learn_sitemap(f"{H}/sitemap.xml", index)
    for i in range(MAX_MODULES * 3):
        family.learn_sitemap(f"{H}/sitemap-vi.m{i}.xml", [Entry(f"{H}/about/x-{i}.html")])
    facts = family.facts()
    assert len(facts["news_modules"]) + len(facts["other_modules"]) <= MAX_MODULES
