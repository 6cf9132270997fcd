"""Scrapy settings for govnews: polite, bounded and safe by default.

Each value says why it is what it is. The CLI and ``scrapy crawl`` both use this
module; ``-s NAME=VALUE`` or the CLI flags override single values.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    _VERSION = version("govnews")
except PackageNotFoundError:  # running from a checkout that was not installed
    _VERSION = "0"

BOT_NAME = "govnews"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
COMMANDS_MODULE = "crawler.commands"  # scrapy crawl portal checks its -a arguments first

# Identify ourselves: portal admins must be able to see who crawls and reach us.
USER_AGENT = f"govnews/{_VERSION} (+https://github.com/govnews/govnews; news archive crawler)"

# --- politeness -------------------------------------------------------------
ROBOTSTXT_OBEY = True  # a government site's robots.txt is its stated wish
CONCURRENT_REQUESTS = 16  # across portals; each portal still gets one at a time
CONCURRENT_REQUESTS_PER_DOMAIN = 1  # small government servers: never more than one request in flight
DOWNLOAD_DELAY = 2.0  # seconds between requests to one host
DOWNLOAD_DELAY_JITTER = 0.5  # delay x 0.5-1.5, so we do not beat in lockstep with cron jobs
AUTOTHROTTLE_ENABLED = True  # back off further when a portal slows down (never below DOWNLOAD_DELAY)
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
CONCURRENT_ITEMS = 4  # a page yields one article at most; Scrapy starts this many workers per response (default 100)
COOKIES_ENABLED = False  # news pages need no session; cookies only grow request headers

# --- bounds -----------------------------------------------------------------
DOWNLOAD_TIMEOUT = 30  # seconds; a portal that takes longer is down for this run
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024  # bytes, also bounds decompressed bodies (bombs)
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024  # a news page above this is odd enough to log
RETRY_ENABLED = True
RETRY_TIMES = 2  # initial response + 2 retries = 3 requests at most
REDIRECT_MAX_TIMES = 5  # portals redirect http->https->www at most; more is a loop
METAREFRESH_MAXDELAY = 10  # follow instant meta refreshes only
DEPTH_LIMIT = 0  # listing pagination is bounded by GOVNEWS_MAX_LISTING_PAGES instead
CLOSESPIDER_PAGECOUNT = 0  # the per-portal request budget is GOVNEWS_MAX_REQUESTS
MEMUSAGE_ENABLED = True
MEMUSAGE_LIMIT_MB = 1024  # stop cleanly (items committed) instead of being OOM-killed

GOVNEWS_MAX_LISTING_PAGES = 1000  # pages followed per listing (category) in one run
GOVNEWS_MAX_LINKS_PER_PAGE = 2000  # links read from one page
GOVNEWS_MAX_REQUESTS = 100_000  # requests per portal per run
GOVNEWS_RECHECK_DAYS = 7  # incremental crawls re-check stored articles published this recently
GOVNEWS_PROBE_BUDGET = 100  # pages of unknown kind fetched per portal run so that they say what they are

# --- safety -----------------------------------------------------------------
# Only http(s): a crafted file:// or data: link must not read local files.
DOWNLOAD_HANDLERS = {"file": None, "data": None, "ftp": None, "s3": None}
TELNETCONSOLE_ENABLED = False  # a local code-execution console we never use
# Scrapy 2.19's RemoteControl (on by default): an HTTP server on 127.0.0.1 that runs any Python posted
# to it, its bearer token in a job file under ~/.local/state/scrapy/job_files/. Whatever can read that
# file runs code inside the crawl, with its database credentials. We never use it.
REMOTE_CONTROL_ENABLED = False
DOWNLOAD_VERIFY_CERTIFICATES = True  # per-portal opt-out: verify_tls = false in the registry
REFERRER_POLICY = "no-referrer"  # do not tell one portal what else we crawl

DOWNLOADER_MIDDLEWARES = {
    # robots.txt fails closed (5xx/429/timeout defers the host) and its Crawl-delay is honoured
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.FailClosedRobotsTxtMiddleware": 100,
    # never private/loopback/link-local addresses, whatever a link or a redirect says
    "crawler.middlewares.PublicAddressesOnlyMiddleware": 110,
    # Crawl-delay and Retry-After, per host; sees 429/503 before the retry middleware (550)
    "crawler.middlewares.PolitenessMiddleware": 560,
    # UTF-8 served under a Latin-1 label (after decompression at 590, before parsing)
    "crawler.middlewares.MislabelledUtf8Middleware": 585,
    # a 404 page's "back to the home page" refresh must not hide the 404
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.middlewares.SuccessOnlyMetaRefreshMiddleware": 580,
}
GOVNEWS_ALLOW_PRIVATE_HOSTS = []  # hosts exempt from the private-address check (local test servers only)

# --- pipeline and storage ---------------------------------------------------
SPIDER_MIDDLEWARES = {
    # every article page parsed is kept (a WARC per run, or a reference into the replayed archive) for reparse
    "crawler.keep_pages.KeepPagesMiddleware": 950,
}
GOVNEWS_KEEP_PAGES = True  # keep article pages under GOVNEWS_PAGES_DIR (--no-keep-pages: off)
GOVNEWS_PAGES_DIR = None  # None: pages/ in the data directory
GOVNEWS_KEEP_PAGES_DAYS = 90  # retention: older files go once no stored article points at them
ITEM_PIPELINES = {
    "pipelines.normalise.NormalisePipeline": 100,
    "pipelines.validate.ValidatePipeline": 200,
    "pipelines.store.StorePipeline": 900,
}
ADDONS = {
    "crawler.archive.ReplayAddon": 0,  # --archive: answer from WARC files, no delays
    "crawler.addons.BenchmarkAddon": 1,  # GOVNEWS_BENCH_NO_POLITENESS: benchmarks on 127.0.0.1 only
}
GOVNEWS_BENCH_NO_POLITENESS = False
EXTENSIONS = {
    "crawler.archive.WarcRecorder": 100,
    "crawler.extensions.progress.Progress": 500,
    "crawler.extensions.health.HealthChecks": 550,  # before CrawlRuns, which stores its verdict
    "crawler.extensions.resume.ResumeMark": 560,  # after the health checks: only a clean run clears the frontier
    "crawler.extensions.runs.CrawlRuns": 600,
}
GOVNEWS_DB = None  # SQLAlchemy URL; None: $GOVNEWS_DB, else sqlite:///data/govnews.sqlite3
GOVNEWS_STORE_BATCH = 50  # items per transaction
GOVNEWS_HEALTH_MIN_DATE_COVERAGE = 0.95  # share of this run's articles with a published date
GOVNEWS_HEALTH_MAX_ERRORS = 20  # failed fetches, dropped items and logged errors per portal run
GOVNEWS_HEALTH_MAX_PARSE_FAILURES = 0.05  # share of article pages the parser could not read
GOVNEWS_HEALTH_MIN_LINKED = 0.5  # a full pass: share of the stored articles the portal still links
GOVNEWS_DEADLETTER_DIR = None  # None: the data directory, beside the default database
GOVNEWS_ARCHIVES = []  # WARC files to replay instead of the network (see --archive)
GOVNEWS_RECORD = None  # WARC file to record every response into (see --record)
GOVNEWS_REGISTRY = None  # path of portals.toml; None: data/portals.toml of the checkout

# --- fleet (schedule run --nodes; see README "A fleet") ------------------------
GOVNEWS_FLEET_NODES = None  # scrapyd node URLs, comma-separated; None: $GOVNEWS_FLEET_NODES, else crawl here
GOVNEWS_NODE_SLOTS = 4  # a node's slots when its URL has no ?slots=N: set it to scrapyd's max_proc
GOVNEWS_FLEET_BATCH = 20  # politeness groups per job at most: bounds a job's memory and connections
GOVNEWS_FLEET_GROUPS = None  # host=group,... : politeness groups that win over the registry and the domain

# --- misc -------------------------------------------------------------------
FEED_EXPORT_ENCODING = "utf-8"
LOG_FORMATTER = "crawler.logformatter.GovnewsLogFormatter"  # items are named by URL in the log, never printed
LOG_LEVEL = "INFO"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
