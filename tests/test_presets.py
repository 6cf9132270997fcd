"""Declarative families (data/presets.toml) on pages written from the documented markup."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from conftest import PAGES

from crawler.families import get_family
from crawler.families.base import PageKind
from crawler.families.detect import detect_family
from crawler.families.preset import PresetError, load_presets, parse_with_format
from crawler.registry import RegistryError, load_registry

CASES = sorted((PAGES / "presets").glob("*.json"))


def _case(path):
    spec = json.loads(path.read_text(encoding="utf-8"))
    html = path.with_suffix(".html").read_text(encoding="utf-8")
    return spec, html


def test_every_preset_has_a_fixture():
    covered = {json.loads(p.read_text(encoding="utf-8"))["family"] for p in CASES}
    assert covered == set(load_presets()), "add tests/fixtures/pages/presets/<preset>.html + .json"


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_fields(path):
    spec, html = _case(path)
    article = get_family(spec["family"], spec.get("options")).parse_article(html, spec["url"])
    for field, expected in spec["expected"].items():
        value = getattr(article, field)
        if field in ("published", "updated"):
            value = value.isoformat() if value else None
        assert value == expected, f"{spec['family']}: {field}"


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_decoration_and_furniture_never_leak(path):
    """The portlet's / container's own title is never the article's; metadata lines never the body."""
    spec, html = _case(path)
    article = get_family(spec["family"], spec.get("options")).parse_article(html, spec["url"])
    assert article.title not in spec.get("must_not_be_title", [])
    for text in spec.get("must_not_be_in_body", []):
        assert text not in (article.body_text or ""), text


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_detected(path):
    spec, html = _case(path)
    detection = detect_family(html, spec["url"])
    # a variant (inherit = ...) without fingerprints of its own is detected as the platform it refines
    assert detection.family == spec.get("detected_as", spec["family"]), detection.evidence
    assert detection.evidence


def test_article_and_listing_urls():
    sharepoint = get_family("sharepoint-tandan")
    assert sharepoint.classify("https://dienbien.gov.vn/portal/Pages/2024-3-5/Tin-abc9k3x.aspx") is PageKind.ARTICLE
    assert sharepoint.classify("https://dienbien.gov.vn/portal/Pages/Tin-tuc.aspx?PageIndex=2") is PageKind.LISTING
    liferay = get_family("liferay")
    assert liferay.classify("https://bacninh.gov.vn/-/details/37632/slug-141199571") is PageKind.ARTICLE


def test_listing_items_and_next_page_from_selectors():
    from parsel import Selector

    page = Selector(
        text="""<div class="tandan-div-article-item"><a href="/portal/Pages/2024-1-2/A-x1.aspx">A</a></div>
        <a class="tandan-a-title" href="/portal/Pages/2024-1-3/B-x2.aspx">B</a>
        <div class="tandan-pager"><a class="next" href="/portal/Pages/Tin-tuc.aspx?PageIndex=2">Sau</a></div>"""
    )
    links = list(get_family("sharepoint-tandan").discover(page, "https://dienbien.gov.vn/portal/Pages/Tin-tuc.aspx"))
    articles = {link.url for link in links if link.kind is PageKind.ARTICLE}
    listings = {link.url for link in links if link.kind is PageKind.LISTING}
    assert "https://dienbien.gov.vn/portal/Pages/2024-1-3/B-x2.aspx" in articles
    assert "https://dienbien.gov.vn/portal/Pages/Tin-tuc.aspx?PageIndex=2" in listings


def test_registry_override_of_a_preset_field(tmp_path):
    registry = tmp_path / "portals.toml"
    registry.write_text(
        '[[portal]]\nhost = "vendor.gov.vn"\nname = "V"\nfamily = "aspnet-webforms"\n'
        'options = { date_format = "%m/%d/%Y %I:%M:%S %p", date = [".ngay"] }\n',
        encoding="utf-8",
    )
    portal = load_registry(registry)["vendor.gov.vn"]
    family = get_family(portal.family, dict(portal.options))
    html = '<span class="ngay">3/4/2021 2:05:09 PM</span><div class="ArticleContent"><p>Nội dung bài viết.</p></div>'
    article = family.parse_article(html, "https://vendor.gov.vn/?id=1")
    assert article.published.isoformat() == "2021-03-04T14:05:09+07:00"  # month first, as configured


def test_bad_override_is_named(tmp_path):
    registry = tmp_path / "portals.toml"
    registry.write_text(
        '[[portal]]\nhost = "v.gov.vn"\nname = "V"\nfamily = "liferay"\noptions = { body = ["div[["] }\n',
        encoding="utf-8",
    )
    with pytest.raises(RegistryError, match=r"portal #1 \(v.gov.vn\).*bad CSS"):
        load_registry(registry)


def test_bad_preset_refused(tmp_path):
    presets = tmp_path / "presets.toml"
    presets.write_text('[x]\narticle_url = "("\nbody = [".b"]\n', encoding="utf-8")
    with pytest.raises(PresetError, match="bad regex"):
        load_presets(str(presets))


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        ("Ngày đăng: 14/01/2020 - 08:05", "%d/%m/%Y - %H:%M", "2020-01-14T08:05:00+07:00"),
        ("12/31/2019 11:59:00 PM", "%m/%d/%Y %I:%M:%S %p", "2019-12-31T23:59:00+07:00"),
        ("Cập nhật: Thứ Ba, ngày 14/01/2020", "dmy", "2020-01-14T00:00:00+07:00"),
        ("31/02/2020 10:00", "%d/%m/%Y %H:%M", None),
    ],
)
def test_parse_with_format(text, fmt, expected):
    moment = parse_with_format(text, fmt)
    assert (moment.isoformat() if moment else None) == expected
    if moment:
        assert isinstance(moment, datetime)


LIFERAY_URLS = {
    # Liferay's own URL shapes (6.x and 7.x friendly-URL routes, display pages, the query form)
    "https://s.gov.vn/web/guest/tin-tuc/-/asset_publisher/Ab3dEf7hIj9K/content/ubnd-tinh-hop?redirect=x": "article",
    "https://s.gov.vn/tin-tuc/-/asset_publisher/x7Yz2WqLm4Np/content/id/884630": "article",
    "https://s.gov.vn/web/guest/-/hoi-nghi-chuyen-doi-so": "article",
    "https://s.gov.vn/w/hoi-nghi-chuyen-doi-so": "article",
    "https://s.gov.vn/en/w/investment-forum-2024": "article",
    "https://s.gov.vn/-/journal_content/56_INSTANCE_aB12cD34eF56/20121/884628": "article",
    "https://bacninh.gov.vn/-/details/37632/slug-141199571": "article",
    "https://s.gov.vn/web/guest/tin-hoat-dong?p_p_id=101&p_p_lifecycle=0&_101_struts_action=%2Fasset_publisher"
    "%2Fview_content&_101_assetEntryId=753365&_101_type=content&_101_urlTitle=x": "article",
    "https://s.gov.vn/tin-tuc?p_p_id=com_liferay_asset_publisher_web_portlet_AssetPublisherPortlet_INSTANCE_x7Yz"
    "&p_p_lifecycle=0&_com_liferay_asset_publisher_web_portlet_AssetPublisherPortlet_INSTANCE_x7Yz_cur=2": "listing",
    "https://s.gov.vn/web/guest/tin-tuc?p_p_id=101_INSTANCE_Ab3dEf7hIj9K&p_p_lifecycle=0"
    "&_101_INSTANCE_Ab3dEf7hIj9K_cur=3": "listing",
    "https://s.gov.vn/tin-tuc/-/asset_publisher/x7Yz2WqLm4Np/": "listing",
    "https://s.gov.vn/web/guest/tin-tuc": "listing",
    "https://s.gov.vn/tin-tuc/-/asset_publisher/x7Yz2WqLm4Np/rss": "feed",
    "https://s.gov.vn/tin-tuc?p_p_id=x&p_p_state=pop_up&_x_viewMode=print&_x_assetEntryId=884630": "other",
    "https://s.gov.vn/sitemap.xml": "sitemap",
}


@pytest.mark.parametrize(("url", "kind"), LIFERAY_URLS.items())
def test_liferay_url_shapes(url, kind):
    assert get_family("liferay").classify(url).value == kind


def test_liferay_article_identity_ignores_where_the_link_was_clicked():
    liferay = get_family("liferay")
    base = "https://s.gov.vn/tin-tuc/-/asset_publisher/Ab3dEf7hIj9K/content/ubnd-tinh-hop"
    keys = {liferay.article_key(base + q) for q in ("", "?redirect=%2Ftin-tuc", "?p_p_state=normal&redirect=%2F")}
    assert len(keys) == 1


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        (
            "12/05/2024",
            ["%m/%d/%y", "dmy"],
            "2024-05-12T00:00:00+07:00",
        ),  # %m/%d/%y never matches inside a 4-digit year
        ("5/13/24", ["%m/%d/%y", "dmy"], "2024-05-13T00:00:00+07:00"),  # Liferay en_US DateFormat.SHORT
        ("Tạo 10/05/2024 - Đã xuất bản 13/05/2024", "dmy", "2024-05-13T00:00:00+07:00"),  # 7.3+ date-info
        ("Sun, 12 May 2024 15:30:00 +0000", "%a, %d %b %Y %H:%M:%S", "2024-05-12T15:30:00+00:00"),  # RFC 822
        ("Ngày đăng: 12/05/2024 10:30 CH", "dmy", "2024-05-12T22:30:00+07:00"),  # vi_VN AM/PM: SA / CH
    ],
)
def test_platform_date_forms(text, fmt, expected):
    assert parse_with_format(text, fmt).isoformat() == expected


def test_unrendered_template_variables_are_no_values():
    html = (
        '<html><head><meta property="og:title" content="$headline"></head><body>'
        '<div class="journal-content-article"><p>Nội dung của bài viết đủ dài để đọc.</p></div></body></html>'
    )
    assert get_family("liferay").parse_article(html, "https://s.gov.vn/-/bai-viet").title is None


def test_feed_dates_back_pages_that_print_none():
    from crawler.discovery import Entry

    hints = get_family("liferay").feed_hints(Entry("https://s.gov.vn/-/x", "Mon, 13 May 2024 02:15:00 GMT"))
    assert hints["published"].isoformat() == "2024-05-13T02:15:00+00:00"
