"""Scrapy commands of the project (``COMMANDS_MODULE``): ``scrapy crawl`` checks the portal spider's arguments."""
