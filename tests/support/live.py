"""A WebSocket client of the live-updates API for tests and benchmarks: frames are read on a thread and kept
with their arrival time, and callers wait for a frame that matches (with a timeout, never a sleep)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

Frame = dict[str, Any]


class LiveClient:
    def __init__(self, ws_url: str, token: str, *, name: str = "client") -> None:
        self.name = name
        self.connection: ClientConnection = connect(f"{ws_url}/?token={quote(token)}", open_timeout=30, legacy=True)
        self.raw: list[str] = []  # every text frame as received (the secrets scan reads these)
        self.received: list[tuple[float, Frame]] = []  # (time.perf_counter() at arrival, frame)
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, name=f"live-{name}", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            for message in self.connection:
                text = message if isinstance(message, str) else message.decode()
                arrived = time.perf_counter()
                with self._changed:
                    self.raw.append(text)
                    self.received.append((arrived, json.loads(text)))
                    self._changed.notify_all()
        except ConnectionClosed:
            pass

    @property
    def frames(self) -> list[Frame]:
        with self._changed:
            return [frame for _, frame in self.received]

    def send(self, frame: Frame) -> None:
        self.connection.send(json.dumps(frame))

    def wait_for(self, predicate: Callable[[Frame], bool], timeout: float = 15, *, after: int = 0) -> Frame:
        """The first frame (from index ``after`` on) that matches; AssertionError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for _, frame in self.received[after:]:
                    if predicate(frame):
                        return frame
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [frame.get("event") for _, frame in self.received[after:]]
                    raise AssertionError(f"{self.name}: no matching frame within {timeout} s; got {seen}")
                self._changed.wait(remaining)

    def request(self, frame: Frame, answer_event: str | tuple[str, ...], timeout: float = 15) -> Frame:
        """Send a client frame and wait for its answer (the next frame whose event is ``answer_event``)."""
        events = (answer_event,) if isinstance(answer_event, str) else answer_event
        start = len(self.received)
        self.send(frame)
        return self.wait_for(lambda f: f.get("event") in events, timeout, after=start)

    def wait_closed(self, timeout: float) -> float:
        """Seconds until the server closed the connection (the reader saw its end); AssertionError after
        ``timeout`` seconds with the connection still open."""
        start = time.monotonic()
        self._reader.join(timeout)
        if self._reader.is_alive():
            raise AssertionError(f"{self.name}: still connected after {timeout} s")
        return time.monotonic() - start

    def close(self) -> None:
        self.connection.close()
        self._reader.join(timeout=5)


def event_for(name: str, **data: Any) -> Callable[[Frame], bool]:
    """A predicate: a frame of event ``name`` whose ``data`` has these values (``message_id`` matches the
    message of a new-message frame or the ``messageId`` of a notification)."""
    message_id = data.pop("message_id", None)

    def matches(frame: Frame) -> bool:
        if frame.get("event") != name:
            return False
        body = frame.get("data") or {}
        if any(body.get(key) != value for key, value in data.items()):
            return False
        if message_id is None:
            return True
        return (body.get("message") or {}).get("id") == message_id or body.get("messageId") == message_id

    return matches
