"""The live page (:mod:`~.web`) in headless Chromium: served from a local folder, run through its automation contract.

The page's contract: ``index.html?file=URL`` separates that file block by block on load, and
``index.html?mic=SECONDS`` the microphone for that many seconds; when done the page writes a JSON summary
into ``#result`` (``block``, ``latency``, ``rtf``, ``median_ms``, ``p99_ms``, ``n_src``, ``threads``,
``sources``...) and sets its title to ``done``, or to ``error: <message>``. :func:`run_page` waits for
that. The tests (``tests/deployment/test_web.py``) and ``benchmarks/bench_web.py`` both drive the page
with these functions.

Chromium is driven through Selenium with the system's ``chromedriver`` named explicitly (Debian's
``chromium`` and ``chromium-driver``; ``$CHROMIUM`` and ``$CHROMEDRIVER`` override the paths), so that
Selenium never looks for a driver on the network. Selenium is a test dependency, imported here only.

Example:
    >>> page_url("http://127.0.0.1:8000", "f32", file="../mix.wav")
    'http://127.0.0.1:8000/f32/index.html?file=../mix.wav'
"""
import functools
import http.server
import json
import os
import threading
import time
import urllib.parse

from ..utils.errors import SetupError

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
#: The headers that make a page cross-origin isolated, which WebAssembly threads need.
ISOLATION_HEADERS = {"Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp"}


class _Quiet(http.server.SimpleHTTPRequestHandler):
    headers_to_send = {}

    def log_message(self, *args):
        pass

    def end_headers(self):
        for name, value in self.headers_to_send.items():
            self.send_header(name, value)
        super().end_headers()


class _Isolating(_Quiet):
    headers_to_send = ISOLATION_HEADERS


def serve(folder, isolated=False):
    """Serve ``folder`` on a free localhost port from a daemon thread; returns ``(server, base_url)``.

    Args:
        folder (str): the folder to serve (the page folder, or a folder above it).
        isolated (bool): send :data:`ISOLATION_HEADERS`, so that the page may run several threads.

    Call ``server.shutdown()`` when done.
    """
    handler = functools.partial(_Isolating if isolated else _Quiet, directory=os.fspath(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def page_url(base_url, folder="", file=None, mic=None):
    """The URL of the page in ``folder`` under ``base_url``, separating ``file`` (a URL relative to the page)
    or the microphone for ``mic`` seconds."""
    query = {k: v for k, v in (("file", file), ("mic", mic)) if v is not None}
    path = f"{base_url}/{folder.strip('/')}/index.html" if folder else f"{base_url}/index.html"
    return path + ("?" + urllib.parse.urlencode(query, safe="/.:") if query else "")


def chromium(fake_microphone=None, window=(1000, 800)):
    """A headless Chromium driven by Selenium; call ``.quit()`` when done.

    Args:
        fake_microphone (str, optional): a WAV file that Chromium's fake capture device plays as the
            microphone (permission granted without asking).
        window (tuple): the window's width and height in pixels (what a screenshot shows).

    Raises:
        SetupError: Chromium, its driver or Selenium is missing (the message says how to install them).
    """
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.path.isfile(path)]
    if missing:
        raise SetupError(f"{', '.join(missing)} not found: install Chromium and its driver (Debian: apt-get install "
                         "chromium chromium-driver), or set $CHROMIUM and $CHROMEDRIVER.")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as err:
        raise SetupError("selenium is not installed: pip install -c constraints.txt -e '.[test]'.") from err
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    flags = ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--autoplay-policy=no-user-gesture-required",
             "--hide-scrollbars",
             f"--window-size={window[0]},{window[1]}"]
    if fake_microphone is not None:
        flags += ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                  f"--use-file-for-fake-audio-capture={os.fspath(fake_microphone)}"]
    for flag in flags:
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))


def browser_version(driver):
    """The driven browser's name and version, e.g. ``"chrome 156.0.8078.129"``."""
    caps = driver.capabilities
    return f"{caps.get('browserName', 'browser')} {caps.get('browserVersion', '?')}"


def run_page(driver, url, timeout=90):
    """Load ``url`` and wait for the page to finish; returns ``(title, summary)``.

    ``title`` is ``"done"`` or ``"error: <message>"``; ``summary`` is the JSON of ``#result`` (None when empty).

    Raises:
        TimeoutError: the page did not finish within ``timeout`` seconds.
    """
    driver.get(url)
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        title = driver.title
        if title == "done" or title.startswith("error"):
            text = driver.find_element("id", "result").get_attribute("textContent")
            return title, json.loads(text) if text else None
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not finish in {timeout} s (title {driver.title!r})")
