"""``scrapy crawl portal``: a usage error without ``-a site=``/``url=``/``portals=``, and fleet batches.

Scrapy builds the spider inside the running reactor, where an exception from its
constructor ends as "Task exception was never retrieved"; checking the arguments
before the crawl starts gives the one-line usage error Scrapy prints for its own.
``-a portals=A,B;C`` is a fleet job (crawler.fleet_job): many portals in this one
process, under leases the process holds itself.
"""

from __future__ import annotations

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts) -> None:
        if args and args[0] == "portal" and "portals" in opts.spargs:
            from crawler.fleet_job import run_batch

            self.exitcode = 0 if run_batch(self.settings, opts.spargs) else 1
            return
        if args and args[0] == "portal" and not ({"site", "url"} & set(opts.spargs)):
            raise UsageError("the portal spider needs -a site=<registry host> or -a url=<start URL>")
        super().run(args, opts)
