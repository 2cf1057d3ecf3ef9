"""GET /v1/models of the Anthropic simulator: release times and the real API's paging
(limit 1..1000, after_id / before_id, has_more, first_id / last_id)."""
import re
from datetime import datetime, timedelta, timezone
from typing import Mapping, Union


def created_at(model_id: str, position: int) -> str:
    """RFC 3339 release time: the id's date suffix, else one derived from the list order."""
    m = re.search(r"(\d{4})(\d{2})(\d{2})$", model_id)
    if m:
        return f"{m[1]}-{m[2]}-{m[3]}T00:00:00Z"
    return (datetime(2026, 10, 1, tzinfo=timezone.utc) - timedelta(days=30 * position)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def model_page(models: list, query: Mapping[str, str]) -> Union[dict, str]:
    """One page of the list as the real API pages it, or the error message of a bad limit."""
    try:
        limit = int(query.get("limit", 20))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 1000:
        return "limit: Input should be between 1 and 1000"
    ids = [m["id"] for m in models]
    if "before_id" in query:
        end = ids.index(query["before_id"]) if query["before_id"] in ids else 0
        start = max(0, end - limit)
        page, has_more = models[start:end], start > 0
    else:
        start = ids.index(query["after_id"]) + 1 if query.get("after_id") in ids else (
            len(ids) if "after_id" in query else 0)
        page, has_more = models[start:start + limit], start + limit < len(ids)
    return {"data": page, "has_more": has_more, "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None}
