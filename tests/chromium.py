"""Headless Chromium for the browser tests: Debian's binary, its flags, a local server.

Shared by ``tests/browser/test_book_in_browser.py`` (the built book) and
``tests/test_reader_browser.py`` (reader notebooks exported to HTML); not a test module.
"""

import contextlib
import functools
import http.server
import os
import threading

CHROMIUM = os.environ.get("LAGPROP_CHROMIUM", "/usr/bin/chromium")
# no background networking, updates or sync: the machine's closed network refuses them
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-quic",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(directory):
    """Serve ``directory`` on a free loopback port; yields the base URL."""
    handler = functools.partial(_Quiet, directory=str(directory))
    # threaded: the browser keeps connections open, and one open connection must not block the next page
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield f"http://127.0.0.1:{server.server_address[1]}"
        server.shutdown()


@contextlib.contextmanager
def context(profile, *, width=1280, height=900):
    """A persistent Chromium context (Playwright) with its profile in ``profile``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": width, "height": height})
        yield ctx
        ctx.close()
