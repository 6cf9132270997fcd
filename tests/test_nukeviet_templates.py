"""The NukeViet parser on detail pages of every theme and version, field by field.

The three corpora cover the 4.5.05 ``default``, ``mobile_default`` and eGovernment ``egov``
themes (tests/test_nukeviet_parser.py). These pages were rendered here from NukeViet's own
templates with sample data (``meta.json`` names the template): eGovernment's ``mobile_egov``
(itemprops without an itemscope container), 4.2.01 (no schema.org, the old "Tác giả bài
viết" / "Từ khóa" labels, no ``article:*`` metas), 4.4.02 (the empty hidden ``itemprop=
description`` before the real lead), the English sub-site of a multi-language 4.5.05 site
rendered in another zone (``site_timezone = byCountry``), and a vendor theme that renamed
every container (read degraded, to the same bounds).
"""

from __future__ import annotations

from datetime import datetime

import pytest
from conftest import nfc, page_cases

from crawler.families.nukeviet import NukeViet

CASES = page_cases("nukeviet-templates")
FIELDS = (
    "url",
    "title",
    "summary",
    "body_text",
    "captions",
    "source",
    "source_url",
    "author",
    "categories",
    "tags",
    "attachments",
)
_parsed: dict[str, object] = {}


def parse(case):
    if case.id not in _parsed:
        _parsed[case.id] = NukeViet().parse_article(case.html, case.meta["url"], other_urls=case.meta["other_urls"])
    return _parsed[case.id]


def test_every_template_variant_is_present():
    assert len(CASES) >= 5


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_field(case, field):
    assert getattr(parse(case), field) == nfc(case.expected[field])


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_published_instant_and_zone(case):
    published = parse(case).published
    assert published == datetime.fromisoformat(case.expected["published"])
    assert published.tzinfo is not None


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_degraded_only_where_the_containers_are_gone(case):
    assert parse(case).degraded is bool(case.meta.get("degraded"))
