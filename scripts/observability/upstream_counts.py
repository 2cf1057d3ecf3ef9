"""What each upstream did since the proxy started, as `make status` says it: counted, never
predicted (`Bedrock: answered 3 of 3 since 14:02:11`, `Bedrock: FAILING: answered 0 of 2
since 14:02:11 (HTTP 503 twice)`).

Read from LiteLLM's per-deployment counters on /metrics/ (1.106.2):
litellm_deployment_success_responses_total and litellm_deployment_failure_responses_total,
labelled with api_provider and, for failures, exception_status. The counters start at 0
with the proxy, so "since" is the proxy's start; with several workers each series is
summed. They count attempts, so a fallback shows as one Anthropic failure and one Bedrock
answer. They hold also while Redis is away, where a cooldown another worker set shows
only as Anthropic getting no attempts.
"""
import collections
from dataclasses import dataclass, field
from typing import Dict, Iterable, List

from scripts.core.providers import NAMES
from scripts.observability.metrics import Sample

SUCCESS = "litellm_deployment_success_responses_total"
FAILURE = "litellm_deployment_failure_responses_total"
ORDER = ("anthropic", "bedrock")
TIMES = {1: "once", 2: "twice"}


@dataclass
class Counts:
    answered: int = 0
    failed: Dict[str, int] = field(default_factory=collections.Counter)

    @property
    def attempts(self) -> int:
        return self.answered + sum(self.failed.values())


def _providers(samples: List[Sample]) -> Dict[str, str]:
    """{model_id: api_provider} from every series that names both: LiteLLM 1.106.2 writes
    api_provider="None" on its failure counter, the deployment's id is there all the same."""
    return {s.labels["model_id"]: s.labels["api_provider"] for s in samples
            if s.labels.get("model_id") and s.labels.get("api_provider") not in (None, "", "None")}


def count(samples: Iterable[Sample]) -> Dict[str, Counts]:
    """{api_provider: its answers and failures by status} over every deployment and worker."""
    samples = list(samples)
    by_id = _providers(samples)
    found: Dict[str, Counts] = collections.defaultdict(Counts)
    for sample in samples:
        provider = by_id.get(sample.labels.get("model_id", ""), "")
        if not provider or sample.name not in (SUCCESS, FAILURE):
            continue
        if sample.name == SUCCESS:
            found[provider].answered += int(sample.value)
        else:
            found[provider].failed[sample.labels.get("exception_status") or "None"] += int(sample.value)
    return dict(found)


def _times(n: int) -> str:
    return TIMES.get(n, f"{n} times")


def _failures(failed: Dict[str, int]) -> str:
    parts = [(f"HTTP {status}" if status not in ("", "None") else "no HTTP answer") + f" {_times(n)}"
             for status, n in sorted(failed.items(), key=lambda item: -item[1]) if n]
    return ", ".join(parts)


def describe(counts: Counts, since: str) -> str:
    if not counts.attempts:
        return f"no attempt since {since}"
    text = f"answered {counts.answered} of {counts.attempts} since {since}"
    failures = _failures(counts.failed)
    if failures:
        text += f" (failed: {failures})"
    return ("FAILING: " if counts.answered == 0 else "") + text


def summary(samples: Iterable[Sample], since: str, expected: Iterable[str] = ORDER) -> str:
    """What each provider the proxy routed to did, Anthropic and Bedrock first, one clause each."""
    found = count(samples)
    providers = list(expected) + sorted(set(found) - set(expected))
    return "; ".join(f"{NAMES.get(p, p)} {describe(found.get(p, Counts()), since)}" for p in providers)
