"""Mixed help-center traffic for locust (``make load``, run by ``bench/traffic.py``): visitors
search, type ahead, open articles, report events and, now and then, contact support.

``LZ_NODES``: comma-separated base URLs; each simulated visitor sticks to one node, in turn.
``LZ_RESULT``: where the contacts accepted and the 5xx seen are written as JSON at the end (the
ticket count is checked against it afterwards).
"""
from __future__ import annotations

import itertools
import json
import os
import random
import uuid
from collections import Counter

from locust import FastHttpUser, between, events, task

NODES = os.environ.get("LZ_NODES", "http://127.0.0.1:5000").split(",")
QUERIES = ["reset password", "invoice", "two factor", "export data", "delete account",
           "billing address", "сбросить пароль", "оплата", "рахунок", "api token", "sso login",
           "the app is down", "change email", "refund", "integrations slack"]
COUNTS: Counter[str] = Counter()
_next_node = itertools.cycle(NODES)


class Visitor(FastHttpUser):
    host = NODES[0]
    wait_time = between(0.05, 0.3)

    def __init__(self, environment):
        self.host = next(_next_node)
        super().__init__(environment)
        self.session = uuid.uuid4().hex[:16]
        self.articles = ["en/reset-password"]

    def _check(self, response) -> None:
        if response.status_code >= 500:
            COUNTS["5xx"] += 1

    @task(10)
    def search(self) -> None:
        query = random.choice(QUERIES)
        with self.client.get("/api/v1/search", params={"q": query}, name="/api/v1/search",
                             catch_response=True) as response:
            self._check(response)
            if response.status_code == 200:
                hits = response.json()["hits"]
                self.articles = [hit["id"] for hit in hits][:5] or self.articles
                self._event("search", query=query, result_count=len(hits),
                            result_ids=[hit["id"] for hit in hits][:10])

    @task(8)
    def suggest(self) -> None:
        prefix = random.choice(QUERIES)[:random.randint(2, 6)]
        with self.client.get("/api/v1/suggest", params={"q": prefix}, name="/api/v1/suggest",
                             catch_response=True) as response:
            self._check(response)

    @task(4)
    def article(self) -> None:
        article = random.choice(self.articles)
        with self.client.get(f"/api/v1/articles/{article}", name="/api/v1/articles/[id]",
                             catch_response=True) as response:
            self._check(response)
        self._event("view", article_id=article)

    @task(1)
    def contact(self) -> None:
        body = {"email": f"user-{self.session}@example.com", "session_id": self.session,
                "message": random.choice(["I cannot reset my password.", "The app is down for us.",
                                          "Where is my invoice?"])}
        with self.client.post("/api/v1/contact", json=body, name="/api/v1/contact",
                              catch_response=True) as response:
            self._check(response)
            if response.status_code in (201, 202):
                COUNTS["contacts_accepted"] += 1
            else:
                COUNTS["contacts_refused"] += 1

    def _event(self, kind: str, **fields) -> None:
        with self.client.post("/api/v1/events", json={"session_id": self.session, "kind": kind, **fields},
                              name="/api/v1/events", catch_response=True) as response:
            self._check(response)


@events.quitting.add_listener
def _write_counts(environment, **kwargs) -> None:
    path = os.environ.get("LZ_RESULT")
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(dict(COUNTS), handle)
