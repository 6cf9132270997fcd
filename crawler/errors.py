"""Errors a user can fix: the CLI prints them as one line on stderr and exits 2, never a traceback."""

from __future__ import annotations


class UsageError(Exception):
    """A bad argument, setting, file or database URL, found before any request is sent.

    The message is the whole story in one line: what was wrong and, where it helps, what to do.
    """
