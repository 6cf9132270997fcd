"""``scrapy crawl portal`` without ``-a site=`` or ``-a url=``: a usage error, not a traceback.

Scrapy builds the spider inside the running reactor, where an exception from its
constructor ends as "Task exception was never retrieved"; checking the arguments
before the crawl starts gives the one-line usage error Scrapy prints for its own.
"""

from __future__ import annotations

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts) -> None:
        if args and args[0] == "portal" and not ({"site", "url"} & set(opts.spargs)):
            raise UsageError("the portal spider needs -a site=<registry host> or -a url=<start URL>")
        super().run(args, opts)
