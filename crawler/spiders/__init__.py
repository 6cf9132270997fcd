"""Scrapy spiders of govnews (one: ``portal``)."""
