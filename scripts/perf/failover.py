"""The failover figures of `make bench`, one request at a time.

- cold: the first request that fails over since the proxy started (Anthropic
  answers 429, the proxy asks Bedrock within the same request);
- warm: the first failover of other model names, later in the proxy's life;
- recovered: the cold model again, after its cooldown ran out;
- cooldown: requests while Anthropic is cooling down (straight to Bedrock);
- direct: the same request answered by the Bedrock simulator, SigV4-signed
  with botocore as any AWS client does, without the proxy.
"""
import json
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from scripts.core.configfile import ProxyConfig
from scripts.core.errors import ToolkitError
from scripts.perf.load import percentile
from scripts.sim.sandbox import AWS_ACCESS_KEY, AWS_SECRET_KEY, Stack

RETRY_AFTER = 8       # seconds of the simulated 429: the cold model's cooldown
COOLDOWN_PROBES = 5
WARM_MODELS = 4
DIRECT_PROBES = 20
PROMPT = [{"role": "user", "content": "Say hello"}]


@dataclass
class Pair:
    name: str           # the model name clients use
    anthropic_id: str   # what the primary deployment sends to Anthropic
    bedrock_id: str     # what the fallback deployment sends to Bedrock


@dataclass
class Failover:
    cold_ms: float
    warm_ms: List[float]
    cooldown_ms: List[float]
    direct_ms: List[float] = field(default_factory=list)
    recovered_ms: Optional[float] = None
    bedrock_path: str = ""
    models: Dict[str, str] = field(default_factory=dict)
    cold_started: float = 0.0

    def figures(self) -> Dict[str, Optional[float]]:
        return {"cold": self.cold_ms, "warm": percentile(self.warm_ms, 50),
                "recovered": self.recovered_ms, "cooldown": percentile(self.cooldown_ms, 50),
                "direct": percentile(self.direct_ms, 50)}


def failover_pairs(config: ProxyConfig, exclude_ids: List[str]) -> List[Pair]:
    """Model names with an Anthropic primary and a Bedrock fallback, each with its
    own Anthropic id (so a fault meant for one never hits another); ids without
    ':' first, as their Bedrock URL needs no escaping."""
    custom_base = {e.get("model_name") for e in config.data["model_list"]
                   if (e.get("litellm_params") or {}).get("api_base")}
    pairs, seen = [], set(exclude_ids)
    for name, targets in config.fallbacks.items():
        primary, fallback = config.deployments[name][0], config.deployments[targets[0]][0]
        if "*" in name or name in custom_base or not primary.startswith("anthropic/") \
                or not fallback.startswith("bedrock/"):
            continue
        anthropic_id = primary.split("/", 1)[1]
        if any(anthropic_id in other or other in anthropic_id for other in seen):
            continue
        seen.add(anthropic_id)
        pairs.append(Pair(name, anthropic_id, fallback.split("/", 1)[1]))
    return sorted(pairs, key=lambda p: ":" in p.bedrock_id)


class Prober:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.session = requests.Session()

    def via_proxy(self, pair: Pair, expect: str) -> float:
        """ms for one proxied request; `expect` is the provider that must answer."""
        started = time.perf_counter()
        reply = self.session.post(f"{self.stack.base_url}/v1/messages", timeout=60,
                                  headers={"x-api-key": self.stack.master_key, "anthropic-version": "2023-06-01"},
                                  json={"model": pair.name, "max_tokens": 64, "messages": PROMPT})
        elapsed = (time.perf_counter() - started) * 1000
        answered = reply.headers.get("x-litellm-model-name", "")
        if reply.status_code != 200 or not answered.startswith(expect):
            raise ToolkitError(f"{pair.name} through the proxy: HTTP {reply.status_code} from "
                               f"{answered or 'unknown'} where {expect} was expected: {reply.text[:160]}")
        return elapsed

    def failover(self, pair: Pair) -> float:
        self.stack.sims.anthropic.reset()
        self.stack.sims.anthropic.set_fault("429", count=1, retry_after=RETRY_AFTER, models=[pair.anthropic_id])
        elapsed = self.via_proxy(pair, "bedrock/")
        if [r["status"] for r in self.stack.primary_calls(pair.anthropic_id)] != [429]:
            raise ToolkitError(f"{pair.name}: the proxy did not try Anthropic first; check router_settings")
        return elapsed

    def bedrock_direct(self, path: str, region: str) -> float:
        body = json.dumps(_bedrock_body(path)).encode()
        url = self.stack.sims.bedrock_url + path
        started = time.perf_counter()
        request = AWSRequest(method="POST", url=url, data=body,
                             headers={"content-type": "application/json", "accept": "application/json"})
        SigV4Auth(Credentials(AWS_ACCESS_KEY, AWS_SECRET_KEY), "bedrock", region).add_auth(request)
        reply = self.session.post(url, data=body, headers=dict(request.headers.items()), timeout=30)
        elapsed = (time.perf_counter() - started) * 1000
        if reply.status_code != 200:
            raise ToolkitError(f"direct Bedrock {path}: HTTP {reply.status_code}: {reply.text[:160]}")
        return elapsed


def _bedrock_body(path: str) -> dict:
    if path.endswith("/converse"):
        return {"messages": [{"role": "user", "content": [{"text": "Say hello"}]}],
                "inferenceConfig": {"maxTokens": 64}}
    return {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 64, "messages": PROMPT}


def measure(stack: Stack, pairs: List[Pair]) -> Failover:
    """Cold failover, cooldown requests and warm failovers (call recovered() later)."""
    if len(pairs) < 2:
        raise ToolkitError("config.yaml has fewer than 2 models with a Bedrock fallback: "
                           "`git checkout config.yaml` restores the shipped one")
    prober, cold = Prober(stack), pairs[0]
    started = time.monotonic()
    result = Failover(prober.failover(cold), [], [], cold_started=started,
                      models={"cold": cold.name})
    result.cooldown_ms = [prober.via_proxy(cold, "bedrock/") for _ in range(COOLDOWN_PROBES)]
    warm = pairs[1:1 + WARM_MODELS]
    result.warm_ms = [prober.failover(pair) for pair in warm]
    result.models["warm"] = ", ".join(p.name for p in warm)
    calls = stack.fallback_calls(cold.bedrock_id)
    result.bedrock_path = urllib.parse.quote(calls[0]["path"], safe="/") if calls else ""
    return result


def recovered(stack: Stack, pair: Pair, result: Failover, region: str) -> None:
    """After the cold model's cooldown ran out: its next failover, and Bedrock direct."""
    prober = Prober(stack)
    time.sleep(max(0.0, result.cold_started + RETRY_AFTER + 1 - time.monotonic()))
    result.recovered_ms = prober.failover(pair)
    if result.bedrock_path:
        result.direct_ms = [prober.bedrock_direct(result.bedrock_path, region) for _ in range(DIRECT_PROBES)]
