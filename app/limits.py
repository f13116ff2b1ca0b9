"""Per-client fairness: how many computations one client may start per minute.

A client is its IP address. Behind a reverse proxy every request comes from the
proxy, so the address is read from X-Forwarded-For — but only when the direct peer
is a proxy the teacher listed as trusted; anyone else could forge that header.
"""

from __future__ import annotations

import ipaddress
import time
from collections import defaultdict, deque

from starlette.requests import Request


def _parse_networks(spec: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",")
            if part.strip()]


class ClientKeys:
    """Finds the client's address, trusting X-Forwarded-For only from listed proxies."""

    def __init__(self, trusted_proxies: str) -> None:
        self.trusted = _parse_networks(trusted_proxies)

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)

    def of(self, request: Request) -> str:
        peer = request.client.host if request.client else "unknown"
        if not self._is_trusted(peer):
            return peer
        # Walk the chain from the nearest hop; the first untrusted address is the client.
        hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",")]
        for hop in reversed([h for h in hops if h]):
            if not self._is_trusted(hop):
                return hop
        return peer


class RateLimiter:
    """A sliding one-minute window of starts per client; 0 per minute means no limit."""

    def __init__(self, per_minute: int, window: float = 60.0) -> None:
        self.per_minute = per_minute
        self.window = window
        self._starts: dict[str, deque[float]] = defaultdict(deque)

    def wait(self, client: str) -> int:
        """Seconds until ``client`` may start another run; 0 means now."""
        if self.per_minute <= 0:
            return 0
        now = time.monotonic()
        starts = self._starts[client]
        while starts and starts[0] <= now - self.window:
            starts.popleft()
        if len(starts) >= self.per_minute:
            return max(1, int(starts[0] + self.window - now) + 1)
        return 0

    def record(self, client: str) -> None:
        """Count a run ``client`` started. Only runs the server admitted count: a client
        refused because the class queue was full has started nothing."""
        if self.per_minute <= 0:
            return
        self._starts[client].append(time.monotonic())
        if len(self._starts) > 10_000:  # forget idle clients so memory stays bounded
            for key in [k for k, v in self._starts.items() if not v]:
                del self._starts[key]
