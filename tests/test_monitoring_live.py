"""The dashboard and the alerts against real metrics.

A real Prometheus, started the way `make monitoring-native` starts it (the project's
prometheus.yml with the target rewritten to the proxy, scrape and rule evaluation every
second), scrapes a real proxy, with both Anthropic credentials set, while a scenario runs
on the simulated upstreams: one real `claude -p` on the subscription (its usage windows),
normal traffic (plain, streamed, a cached prompt), a 429 that sends requests to Bedrock and
puts Anthropic in cooldown, recovery, a model that Anthropic and Bedrock both refuse and a
tier after Bedrock answers (an env-defined model on the OpenAI-compatible simulator), and a
model whose fallbacks all fail.
Then every PromQL expression of every dashboard panel and of every alert rule is
evaluated through Prometheus' HTTP API and must return at least one series.

How the expressions are evaluated:
- Grafana's variables are replaced as GRAFANA_VARS says: the model and provider
  filters on "All" (their allValue, .*), and windows that cover the whole scenario.
- An alert rule's expr ends with its threshold comparison ("... > 0", checked by
  test_monitoring_static); the expression before it is evaluated, since most
  thresholds are not crossed by a one-minute scenario. The alerts that fire at once
  (cooldown, failed fallback) are checked to fire for real.
"""
import json
import re
import shutil
import subprocess
import time
import urllib.parse
from pathlib import Path

import anthropic
import pytest
import yaml
from claude_cli import claude_binary, run_print
from harness import start_simulators, start_stack

from scripts.core.http import request
from scripts.core.paths import PROJECT_DIR
from scripts.core.procs import free_port
from scripts.sim.sandbox import PYTHON, TIER_MODEL, tier_dotenv

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(shutil.which("prometheus") is None,
                                 reason="needs the prometheus binary (Debian package `prometheus`)")]

DASHBOARD = PROJECT_DIR / "monitoring" / "grafana" / "dashboards" / "claude-gateway.json"
ALERTS = PROJECT_DIR / "monitoring" / "prometheus" / "alerts.yml"
GRAFANA_VARS = {"$__rate_interval": "2m", "$__range": "10m", "$model": ".*", "$provider": ".*"}
THRESHOLD = re.compile(r"\s*(==|!=|>=|<=|>|<)\s*[-+]?[0-9.]+(e[-+]?[0-9]+)?\s*$")
WINDOW = 6  # seconds of retry-after on the simulated 429: the cooldown
SCRAPE_GAP = 1.2  # seconds between events that rate() must see as an increase: more than a scrape interval
METRICS_AUTH_OFF = "require_auth_for_metrics_endpoint: false"


class Prometheus:
    def __init__(self, url: str) -> None:
        self.url = url

    def query(self, expr: str) -> list:
        reply = request("GET", f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': expr})}", timeout=10)
        body = reply.json()
        assert body.get("status") == "success", f"{expr}: {body.get('error')}"
        return body["data"]["result"]

    def wait_for(self, expr: str, timeout: float, process: subprocess.Popen) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert process.poll() is None, "prometheus exited"
            try:
                if self.query(expr):
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"no {expr} within {timeout} s: {self.query('up')}")


def scrape_ready_config(workdir: Path) -> Path:
    """The project's config.yaml; with metrics auth off added when it is not there yet."""
    text = (PROJECT_DIR / "config.yaml").read_text()
    if METRICS_AUTH_OFF not in text:
        callbacks = '  callbacks: ["prometheus"]\n'
        assert callbacks in text, "config.yaml lost litellm_settings.callbacks: [\"prometheus\"]"
        text = text.replace(callbacks, f"{callbacks}  {METRICS_AUTH_OFF}\n")
    path = workdir / "config.yaml"
    path.write_text(text)
    return path


def ask(client, model, **extra):
    raw = client.messages.with_raw_response.create(
        model=model, max_tokens=32, messages=[{"role": "user", "content": "hello"}], **extra)
    return raw.headers["x-litellm-model-name"]


def stream(client, model):
    with client.messages.stream(model=model, max_tokens=32, messages=[{"role": "user", "content": "hi"}]) as events:
        return events.get_final_message()


def cached_prompt(name: str) -> list:
    """A system prompt long enough for prompt caching (the simulator's minimum is 1024 tokens)."""
    return [{"type": "text", "text": f"You are {name}, a careful assistant. " * 400, "cache_control": {"type": "ephemeral"}}]


def run_claude_code(stack, model: str) -> None:
    """One real `claude -p` through the proxy: with both credentials set, its request is
    the subscription's, and the subscription's answer fills the usage-window gauges."""
    result = run_print(claude_binary(), stack.base_url, stack.master_key, stack.workdir / "home", model)
    assert "simulated Anthropic" in result["result"]
    assert [c["auth_kind"] for c in stack.primary_calls(model)] == ["oauth"]


def run_scenario(stack) -> None:
    client = anthropic.Anthropic(api_key=stack.master_key, base_url=stack.base_url, max_retries=0)
    # Claude Code on the subscription, the rest of the scenario on the API key.
    stack.sims.anthropic.subscription(windows={"5h": {"utilization": 0.7}, "7d": {"utilization": 0.3}})
    run_claude_code(stack, "claude-haiku-4-5")
    # Normal traffic, plain and streamed, a scrape apart: LiteLLM creates a series at its
    # first event, and rate() needs a second one. Prompts A and B are cached (written),
    # then read.
    for name in ("A", "B", "A", "B"):
        assert ask(client, "claude-sonnet-4-6", system=cached_prompt(name)).startswith("anthropic/")
        stream(client, "claude-sonnet-4-6")
        stream(client, "claude-haiku-4-5")
        time.sleep(SCRAPE_GAP)
    # A rate limit: one 429, then the cooldown; every request is answered by Bedrock.
    stack.sims.anthropic.set_fault("429", count=1, retry_after=WINDOW, models=["claude-haiku-4-5"])
    started = time.monotonic()
    for i in range(3):
        time.sleep(SCRAPE_GAP if i else 0)
        assert ask(client, "claude-haiku-4-5").startswith("bedrock/")
    assert time.monotonic() - started < WINDOW, "the cooldown ended before its requests ran"
    # After the cooldown Anthropic serves again.
    time.sleep(max(0.0, WINDOW + 0.5 - (time.monotonic() - started)))
    assert ask(client, "claude-haiku-4-5").startswith("anthropic/")
    # Anthropic and Bedrock both refuse a model: the tier after Bedrock answers, twice (a scrape
    # apart, for rate()); the second request goes straight to it, both being in cooldown.
    stack.sims.anthropic.set_fault("429", count=1, retry_after=WINDOW, models=["claude-sonnet-4-5"])
    stack.sims.bedrock.set_fault("throttle", count=1, models=["sonnet-4-5"])
    started = time.monotonic()
    assert ask(client, "claude-sonnet-4-5") == f"zai/{TIER_MODEL}"
    time.sleep(SCRAPE_GAP)
    assert ask(client, "claude-sonnet-4-5") == f"zai/{TIER_MODEL}"
    assert time.monotonic() - started < WINDOW, "Anthropic's cooldown ended before the second request"
    # Every upstream fails for one model: the fallbacks fail, the client gets an error.
    stack.sims.anthropic.set_fault("500", models=["claude-opus-4-1"])
    stack.sims.bedrock.set_fault("500", models=["claude-opus-4-1"])
    stack.sims.openai.set_fault("500", count=1)
    with pytest.raises(anthropic.APIStatusError):
        ask(client, "claude-opus-4-1")
    stack.sims.anthropic.clear_fault()
    stack.sims.bedrock.clear_fault()
    # A request Anthropic refuses as invalid: its fallback is never sent (LiteLLM counts it
    # as a failed fallback all the same), so no alert or panel may call the fallback broken.
    bedrock_before = len(stack.fallback_calls())
    with pytest.raises(anthropic.BadRequestError):
        client.messages.create(model="claude-sonnet-4-6", max_tokens=-5, messages=[{"role": "user", "content": "hi"}])
    assert len(stack.fallback_calls()) == bedrock_before


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("monitoring-live")
    sims = start_simulators()
    stack = start_stack(workdir, credentials=("api_key", "token"), sims=sims, env_values=tier_dotenv(sims),
                        extra_env={"GATEWAY_CONFIG": str(scrape_ready_config(workdir))})
    process = None
    log = (workdir / "prometheus.log").open("wb")
    try:
        port = free_port()
        process = subprocess.Popen(
            [PYTHON, "-m", "scripts.monitoring", "native", "--listen", f"127.0.0.1:{port}",
             "--scrape-interval", "1s", "--data-dir", str(workdir / "tsdb")],
            cwd=PROJECT_DIR, env=stack.env, stdout=log, stderr=subprocess.STDOUT)
        api = Prometheus(f"http://127.0.0.1:{port}")
        api.wait_for('up{job="litellm-proxy"} == 1', 60, process)
        run_scenario(stack)
        # The last events scraped and the rules evaluated: a scrape that began two
        # intervals (1 s each, rules included) after the scenario ended.
        api.wait_for(f'timestamp(up{{job="litellm-proxy"}}) > {time.time() + 2}', 30, process)
        yield api
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=15)
        log.close()
        stack.stop()


def panel_queries():
    """(panel, target, expr) for every target, Grafana's variables replaced."""
    dashboard = json.loads(DASHBOARD.read_text())
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            for name, value in GRAFANA_VARS.items():
                expr = expr.replace(name, value)
            yield panel, target, expr


def total(result: list) -> float:
    return sum(float(series["value"][1]) for series in result)


def describe(result: list, legend: str = "") -> str:
    """Each series as its legend would name it, with its value."""
    shown = []
    for series in result:
        name = re.sub(r"\{\{(\w+)\}\}", lambda m: series["metric"].get(m.group(1), ""), legend)
        if not legend or legend == "__auto":
            name = ",".join(v for k, v in sorted(series["metric"].items()) if k not in ("__name__", "instance", "job"))
        shown.append(f"{name or 'value'}={float(series['value'][1]):.4g}")
    return "; ".join(shown)


def test_every_dashboard_query_returns_series(prometheus):
    empty, report = [], []
    for panel, target, expr in panel_queries():
        result = prometheus.query(expr)
        if not result:
            empty.append(f"panel {panel['id']} {panel['title']}: {expr}")
        report.append(f"{panel['id']:>2} {panel['title']} [{target['refId']}]: {describe(result, target['legendFormat'])}")
    print("\n" + "\n".join(report))
    assert not empty, "queries without any series:\n" + "\n".join(empty)


def panel_results(prometheus, title: str) -> list:
    results = [prometheus.query(expr) for panel, _, expr in panel_queries() if panel["title"] == title]
    assert results, f"no panel {title!r}"
    return results


def panel_value(prometheus, title: str) -> float:
    return sum(total(result) for result in panel_results(prometheus, title))


def test_fallback_and_cooldown_panels_show_what_happened(prometheus):
    # to Bedrock: the 429, then two during the cooldown; to the tier: two requests, two hops each
    # (Anthropic -> Bedrock twin -> tier 3)
    assert panel_value(prometheus, "Successful fallbacks") == 7
    assert panel_value(prometheus, "Fallbacks, last 5 min") == 7
    assert panel_value(prometheus, "Fallbacks, to Bedrock and the tiers after it") == 7
    assert panel_value(prometheus, "Answered by Bedrock") == 3
    assert panel_value(prometheus, "Answered by other providers") == 2
    # fallbacks sent that failed, in the stat and the time series: opus' Bedrock twin and tier 3
    # (the client got an error), sonnet-4-5's throttled Bedrock twin (tier 3 answered); the
    # invalid request's fallbacks were never sent (LiteLLM's own counter has them)
    assert panel_value(prometheus, "Failed fallbacks") == 2 * 3
    failed = {(s["metric"]["requested_model"], s["metric"]["fallback_model"], s["metric"]["status"]): float(s["value"][1])
              for s in prometheus.query("gateway_fallback_failures_total")}
    assert failed == {("claude-opus-4-1", "claude-opus-4-1-bedrock", "503"): 1, ("claude-opus-4-1", TIER_MODEL, "500"): 1,
                      ("claude-sonnet-4-5", "claude-sonnet-4-5-bedrock", "429"): 1}
    assert panel_value(prometheus, "Anthropic cooldowns, last 5 min") == 3  # haiku's 429, sonnet's 429, opus' 500
    assert panel_value(prometheus, "Share answered by Bedrock, last 5 min") > 0


def test_deployment_state_panel_shows_the_state_after_the_last_call(prometheus):
    (result,) = panel_results(prometheus, "Deployment state after its last call")
    state = {series["metric"]["litellm_model_name"]: float(series["value"][1]) for series in result}
    assert state["claude-opus-4-1-20250805"] == 1  # failed, and no call succeeded since
    assert state["claude-haiku-4-5-20251001"] == 0  # served again after its cooldown
    # LiteLLM's never-reset "2 = cooldown" series are left out (raw, haiku's still says 2).
    assert 2 not in state.values()
    raw = prometheus.query('litellm_deployment_state{litellm_model_name="claude-haiku-4-5"}')
    assert [float(series["value"][1]) for series in raw] == [2]


@pytest.mark.parametrize("title", ["End-to-end latency p50 / p95", "LLM API latency p50 / p95",
                                   "Proxy overhead p50 / p95", "Time to first token p50 / p95"])
def test_latency_panels_show_numbers(prometheus, title):
    for result in panel_results(prometheus, title):  # p50, then p95
        values = [float(series["value"][1]) for series in result]
        assert values and all(0 < value < 60 for value in values), values  # NaN fails too


@pytest.mark.parametrize("title", ["Requests by provider and model", "Tokens in / out",
                                   "Prompt cache tokens read / written", "Spend rate"])
def test_rate_panels_show_traffic(prometheus, title):
    for result in panel_results(prometheus, title):  # each target: in and out, read and written
        assert total(result) > 0


def test_every_alert_expression_returns_series(prometheus):
    rules = [rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]
    empty = []
    for rule in rules:
        expr = THRESHOLD.sub("", rule["expr"].strip())
        result = prometheus.query(expr)
        print(f"{rule['alert']}: {describe(result)}")
        if not result:
            empty.append(f"{rule['alert']}: {expr}")
    assert not empty, "alert expressions without any series:\n" + "\n".join(empty)


def variable_options(prometheus, variable: dict) -> set:
    """The options Grafana would offer: label_values(metric, label), through the variable's regex."""
    metric, label = re.fullmatch(r"label_values\((\w+), (\w+)\)", variable["query"]).groups()
    url = f"{prometheus.url}/api/v1/label/{label}/values?{urllib.parse.urlencode({'match[]': metric})}"
    values = request("GET", url, timeout=10).json()["data"]
    pattern = re.compile(variable["regex"].strip("/"))  # Grafana's JS regex; this one reads the same in Python
    return {match.group(1) for match in map(pattern.fullmatch, values) if match}


def test_variables_offer_the_models_and_providers(prometheus):
    variables = {v["name"]: v for v in json.loads(DASHBOARD.read_text())["templating"]["list"]}
    assert variable_options(prometheus, variables["model"]) == {"claude-sonnet-4-6", "claude-haiku-4-5",
                                                                "claude-opus-4-1", TIER_MODEL}
    assert variable_options(prometheus, variables["provider"]) == {"anthropic", "bedrock", "zai"}


def test_answers_are_shown_per_provider(prometheus):
    (result,) = panel_results(prometheus, "Answers by provider, time range")
    answers = {series["metric"]["api_provider"]: float(series["value"][1]) for series in result}
    assert answers["zai"] == 2 and answers["bedrock"] == 3 and answers["anthropic"] > 3


def test_the_subscription_row_shows_the_usage_windows(prometheus):
    (used,) = panel_results(prometheus, "Usage windows used")
    assert {s["metric"]["window"]: round(float(s["value"][1]), 2) for s in used} == {"5h": 0.72, "7d": 0.32}
    (status,) = panel_results(prometheus, "Subscription status")
    assert [(s["metric"]["claim"], float(s["value"][1])) for s in status] == [("five_hour", 0.0)]
    (left,) = panel_results(prometheus, "Claude Code off the subscription for")
    assert total(left) == 0  # never limited in this scenario
    (resets,) = panel_results(prometheus, "Window resets")
    assert all(float(s["value"][1]) > time.time() * 1000 for s in resets)


def test_cooldown_and_failed_fallback_alerts_fire(prometheus):
    firing = prometheus.query('ALERTS{alertstate="firing"}')
    fired = {(s["metric"]["alertname"], s["metric"].get("litellm_model_name", s["metric"].get("requested_model")))
             for s in firing}
    assert ("AnthropicInCooldown", "claude-haiku-4-5") in fired
    assert ("AnthropicInCooldown", "claude-opus-4-1") in fired
    assert ("BedrockFallbackFailing", "claude-opus-4-1") in fired
    # The invalid request's skipped fallback: LiteLLM counted it failed, the alert stays quiet.
    assert prometheus.query('litellm_deployment_failed_fallbacks_total{requested_model="claude-sonnet-4-6", '
                            'exception_status="400"}')
    assert ("BedrockFallbackFailing", "claude-sonnet-4-6") not in fired
    assert not {name for name, _ in fired} & {"LiteLLMProxyDown", "ErrorRateHigh", "FallbackRateHigh",
                                              "SubscriptionWindowNearLimit"}
