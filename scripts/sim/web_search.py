"""The simulated search engine behind the simulated model's web search: deterministic
results derived from the query (the same query always finds the same pages), so a test
can check that the answer cites what the search found."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import List

RESULTS = 3


@dataclass(frozen=True)
class Page:
    url: str
    title: str
    snippet: str


def _slug(query: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", query.lower()).strip("-")[:60] or "search"


def search(query: str) -> List[Page]:
    """RESULTS pages for the query: example.com-style hosts, one per rank."""
    digest = hashlib.sha256(query.encode()).hexdigest()
    slug = _slug(query)
    return [Page(url=f"https://search-result-{rank}.example/{slug}-{digest[rank * 6:rank * 6 + 6]}",
                 title=f"{query.strip()} - result {rank}",
                 snippet=f"Result {rank} for \"{query.strip()}\": page {digest[rank * 6:rank * 6 + 6]}.")
            for rank in range(1, RESULTS + 1)]
