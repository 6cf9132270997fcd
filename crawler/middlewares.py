"""Downloader middlewares govnews adds to or swaps into Scrapy's chain."""

from __future__ import annotations

from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware


class SuccessOnlyMetaRefreshMiddleware(MetaRefreshMiddleware):
    """Follow ``<meta http-equiv=refresh>`` on successful pages only.

    NukeViet's (and many portals') 404 page refreshes to the home page after a few
    seconds; following it would turn "this article is gone" into "here is the home
    page". The error status must reach the spider.
    """

    def process_response(self, request, response):
        if not 200 <= response.status < 300:
            return response
        return super().process_response(request, response)
