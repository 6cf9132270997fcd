"""A local HTTP server on 127.0.0.1 for crawl tests: serves recorded pages, or misbehaves on purpose."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

Route = tuple[int, list[tuple[str, str]], bytes]


def routes_from_warc(path: Path) -> dict[str, Route]:
    """path?query -> (status, headers, body) of every response recorded in a WARC."""
    from warcio.archiveiterator import ArchiveIterator

    routes: dict[str, Route] = {}
    with path.open("rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type != "response":
                continue
            parts = urlsplit(record.rec_headers.get_header("WARC-Target-URI"))
            key = parts.path + (f"?{parts.query}" if parts.query else "")
            headers = [
                (k, v)
                for k, v in record.http_headers.headers
                if k.lower() not in ("content-length", "transfer-encoding", "connection")
            ]
            routes[key] = (int(record.http_headers.get_statuscode()), headers, record.content_stream().read())
    return routes


class MockServer:
    """``with MockServer(routes) as server: server.url("/")``; records every request path."""

    def __init__(
        self, routes: dict[str, Route] | None = None, handler: Callable[[BaseHTTPRequestHandler], bool] | None = None
    ) -> None:
        self.routes = routes or {}
        self.requests: list[str] = []
        self._custom = handler
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                server.requests.append(self.path)
                if server._custom is not None and server._custom(self):
                    return
                status, headers, body = server.routes.get(
                    self.path, (404, [("Content-Type", "text/html")], b"<html>404</html>")
                )
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> MockServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
