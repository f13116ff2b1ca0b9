"""A client is a browser, not an address (app/identity.py): pages give a signed browser id,
rate limits count by it, a forged or missing one falls back to the address."""

from __future__ import annotations

from app.identity import COOKIE, BrowserIds
from tests.helpers import make_client

BODY = {"dataset": "blobs", "k": 2, "n_points": 50}


def test_a_page_gives_a_signed_browser_id_once():
    with make_client() as client:
        first = client.get("/")
        token = first.cookies[COOKIE]
        attributes = first.headers["set-cookie"]
        assert "HttpOnly" in attributes and "SameSite=Lax" in attributes
        assert COOKIE not in client.get("/lessons/kmeans").cookies  # already has a valid one
        client.cookies.clear()
        assert "set-cookie" not in client.get("/api/demos").headers  # only pages hand them out
        assert BrowserIds("other secret").verify(token) is None


def test_ids_verify_only_with_their_secret_and_shape():
    ids = BrowserIds("s3cret")
    token = ids.new_token()
    browser = ids.verify(token)
    assert browser and len(browser) == 16
    assert BrowserIds("s3cret").verify(token) == browser  # the same key: replicas agree
    forged = f"{'A' * 16}.{token.split('.')[1]}"
    for bad in (None, "", "abc", forged, token + "x", token.replace(".", "")):
        assert ids.verify(bad) is None


def test_rate_limits_count_each_browser_not_the_shared_address():
    with make_client(rate_per_minute=1) as client:  # every request from one address

        def run_as(token: str | None, seed: int):
            client.cookies.clear()
            if token:
                client.cookies.set(COOKIE, token)
            return client.post("/api/demos/kmeans/run", json={**BODY, "seed": seed})

        browsers = []
        for _ in range(3):  # three browsers open a page: each gets its own id
            client.cookies.clear()
            browsers.append(client.get("/").cookies[COOKIE])
        assert len(set(browsers)) == 3
        for i, token in enumerate(browsers):
            assert run_as(token, i).status_code == 200
        again = run_as(browsers[0], 10)
        assert again.status_code == 429
        assert again.json()["detail"][0]["message"] == (
            "the server starts at most 1 new run a minute per browser; this one can start "
            f"another in {again.headers['retry-after']} s")
        # Without a cookie (a script), the address is the client: it had no run yet ...
        assert run_as(None, 20).status_code == 200
        # ... and a forged cookie is no browser: it counts as that same address.
        refused = run_as(f"{'A' * 16}.{'0' * 32}", 21)
        assert refused.status_code == 429 and "per client" in refused.json()["detail"][0]["message"]
