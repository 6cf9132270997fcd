"""scrapyd nodes as the dispatcher sees them: ``http://user:password@host:6800`` URLs, their JSON API.

The credentials go in an HTTP Basic ``Authorization`` header, never into a job's arguments; a URL
without them takes ``$GOVNEWS_SCRAPYD_USERNAME`` / ``$GOVNEWS_SCRAPYD_PASSWORD``. A node is named
``host:port`` in leases, runs and status (never with its credentials).
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from crawler.errors import UsageError

PROJECT = "govnews"
TIMEOUT = 10.0


@dataclass
class Node:
    base: str  # scheme://host:port, no credentials
    name: str  # host:port
    auth: str | None = field(default=None, repr=False)
    slots: int | None = None  # ``?slots=N`` on the URL: the node's scrapyd max_proc, else the setting

    @classmethod
    def parse(cls, url: str) -> Node:
        parts = urllib.parse.urlsplit(url.strip() if "://" in url else f"http://{url.strip()}")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"--nodes: {url!r} is not a scrapyd URL (http://user:password@host:6800)")
        port = parts.port or (443 if parts.scheme == "https" else 6800)
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        name = f"{host}:{port}"
        user = urllib.parse.unquote(parts.username or "") or os.environ.get("GOVNEWS_SCRAPYD_USERNAME", "")
        password = urllib.parse.unquote(parts.password or "") or os.environ.get("GOVNEWS_SCRAPYD_PASSWORD", "")
        auth = base64.b64encode(f"{user}:{password}".encode()).decode() if user or password else None
        slots = urllib.parse.parse_qs(parts.query).get("slots", [None])[0]
        if slots is not None and not slots.isdigit():
            raise UsageError(f"--nodes: slots={slots!r} is not a number of processes")
        return cls(base=f"{parts.scheme}://{name}", name=name, auth=auth, slots=int(slots) if slots else None)

    def _open(self, request: urllib.request.Request) -> dict:
        if self.auth:
            request.add_header("Authorization", f"Basic {self.auth}")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 - the operator's node URL
                answer = json.load(response)
        except urllib.error.HTTPError as error:
            raise NodeError(f"{self.name}: HTTP {error.code} {error.reason}") from None
        except (OSError, ValueError) as error:
            raise NodeError(f"{self.name}: {error}") from None
        if answer.get("status") != "ok":
            raise NodeError(f"{self.name}: {answer.get('message') or answer}")
        return answer

    def get(self, endpoint: str, **query: str) -> dict:
        url = f"{self.base}/{endpoint}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
        return self._open(urllib.request.Request(url))

    def post(self, endpoint: str, fields: list[tuple[str, str]]) -> dict:
        body = urllib.parse.urlencode(fields).encode()
        return self._open(urllib.request.Request(f"{self.base}/{endpoint}", data=body, method="POST"))

    def jobs(self, project: str = PROJECT) -> dict[str, list[dict]]:
        """``listjobs.json``: pending, running and finished jobs of the project."""
        answer = self.get("listjobs.json", project=project)
        return {state: answer.get(state, []) for state in ("pending", "running", "finished")}


class NodeError(RuntimeError):
    """A scrapyd node did not answer, or refused."""


def parse_nodes(value: str | list[str] | None) -> list[Node]:
    """``--nodes URL[,URL…]`` or the ``GOVNEWS_FLEET_NODES`` setting (a list, or comma-separated)."""
    items = value if isinstance(value, list) else str(value or "").split(",")
    nodes = [Node.parse(item) for item in items if item and item.strip()]
    names = [node.name for node in nodes]
    if len(set(names)) != len(names):
        raise UsageError(f"--nodes: a node is listed twice ({', '.join(names)})")
    return nodes
