"""Shim for tools that still run ``setup.py`` (scrapyd-deploy builds its egg with bdist_egg).

All metadata lives in pyproject.toml.
"""

from setuptools import setup

setup()
