"""A headless Chromium driven over the DevTools protocol through a pipe (no port, no network).

``--remote-debugging-pipe`` makes Chromium read commands from file descriptor 3 and write
replies and events to descriptor 4, each message a JSON text ended by a NUL byte. This
module starts Chromium with a fresh profile and every background service off, opens one
page, records every network request, console message, log entry and exception, and can
capture a screenshot, print to PDF and read the DOM.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
    "--remote-debugging-pipe",
)


def chromium() -> str | None:
    """The Chromium executable, if installed."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class PageLog:
    """What a page did while loading."""

    requests: list[str] = field(default_factory=list)
    """Every URL the page asked for (also those its policy then blocked)."""
    blocked: list[tuple[str, str]] = field(default_factory=list)
    """(URL, reason) of requests that failed before any byte was fetched."""
    responses: list[str] = field(default_factory=list)
    """URLs that got a response."""
    console: list[tuple[str, str]] = field(default_factory=list)
    """(level, text) of console calls and browser log entries."""
    exceptions: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        found = [text for level, text in self.console if level in ("error", "assert")]
        return found + self.exceptions


class Browser:
    """One Chromium process and one page target, over the pipe."""

    def __init__(self, executable: str, profile: Path) -> None:
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def wire() -> None:  # in the child: commands on fd 3, replies on fd 4
            # copies above 9 first, so that neither end is overwritten by the other's dup2,
            # and dup2 to a different number gives an inheritable descriptor
            read_end = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
            write_end = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        self._process = subprocess.Popen(  # noqa: S603 - a fixed argument list
            [executable, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,  # the pipe ends are dup2'ed to 3 and 4, which must stay open
            preexec_fn=wire,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []
        self.session = ""

    # -- protocol ------------------------------------------------------------------------
    def _send(self, method: str, params: dict[str, Any] | None = None, *, session: bool) -> int:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        os.write(self._to_child, json.dumps(message).encode("utf-8") + b"\0")
        return self._next_id

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._from_child, 1 << 16)
            if not chunk:
                raise ConnectionError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        session: bool = True,
        timeout: float = 30.0,
    ) -> dict[str, Any]:
        """Send a command and wait for its reply; events that arrive meanwhile are kept."""
        wanted = self._send(method, params, session=session)
        deadline = time.monotonic() + timeout
        while True:
            message = self._read(deadline)
            if message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            if "method" in message:
                self._events.append(message)

    def wait_for(self, event: str, timeout: float = 30.0) -> dict[str, Any]:
        """Wait until an event arrives (or has arrived) and return it."""
        deadline = time.monotonic() + timeout
        while True:
            for message in self._events:
                if message["method"] == event:
                    return message
            message = self._read(deadline)
            if "method" in message:
                self._events.append(message)

    # -- a page --------------------------------------------------------------------------
    def open(self, url: str, *, width: int = 1000, height: int = 1400) -> PageLog:
        """Open ``url`` in a new page, wait for its load event, return what it did."""
        target = self.call("Target.createTarget", {"url": "about:blank"}, session=False)
        attached = self.call(
            "Target.attachToTarget",
            {"targetId": target["targetId"], "flatten": True},
            session=False,
        )
        self.session = attached["sessionId"]
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.call(f"{domain}.enable")
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        self._events.clear()
        self.call("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired")
        self.call("Runtime.evaluate", {"expression": "1", "awaitPromise": True})  # settle
        return self.log()

    def log(self) -> PageLog:
        log = PageLog()
        urls: dict[str, str] = {}
        for message in self._events:
            params = message.get("params", {})
            method = message["method"]
            if method == "Network.requestWillBeSent":
                urls[params["requestId"]] = params["request"]["url"]
                log.requests.append(params["request"]["url"])
            elif method == "Network.loadingFailed":
                reason = params.get("blockedReason") or params.get("errorText", "")
                log.blocked.append((urls.get(params["requestId"], "?"), reason))
            elif method == "Network.responseReceived":
                log.responses.append(params["response"]["url"])
            elif method == "Runtime.consoleAPICalled":
                text = " ".join(
                    str(a.get("value", a.get("description", ""))) for a in params["args"]
                )
                log.console.append((params["type"], text))
            elif method == "Log.entryAdded":
                log.console.append((params["entry"]["level"], params["entry"]["text"]))
            elif method == "Runtime.exceptionThrown":
                log.exceptions.append(params["exceptionDetails"].get("text", "exception"))
        return log

    def evaluate(self, expression: str) -> Any:
        """The JSON value of an expression evaluated in the page (DevTools, not the page's
        own scripts, which its policy forbids)."""
        reply = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return reply["result"].get("value")

    def screenshot(self) -> bytes:
        reply = self.call(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
        )
        return base64.b64decode(reply["data"])

    def pdf(self) -> bytes:
        reply = self.call(
            "Page.printToPDF",
            {
                "paperWidth": 8.27,
                "paperHeight": 11.69,
                "printBackground": True,
                "preferCSSPageSize": True,
            },
            timeout=60.0,
        )
        return base64.b64decode(reply["data"])

    def close(self) -> None:
        with suppress(OSError, RuntimeError, TimeoutError, ConnectionError):
            self.call("Browser.close", session=False, timeout=5.0)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)
        os.close(self._to_child)
        os.close(self._from_child)


@contextmanager
def browser(executable: str) -> Iterator[Browser]:
    """A Chromium with a fresh, temporary profile, closed afterwards."""
    with tempfile.TemporaryDirectory(prefix="alliance-chromium-") as profile:
        b = Browser(executable, Path(profile))
        try:
            yield b
        finally:
            b.close()
