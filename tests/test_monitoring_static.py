"""The monitoring stack's files, checked without a Docker engine: the compose file
parses (Debian's docker-compose) and mounts files that exist, promtool accepts the
Prometheus config and rules and runs their unit tests, the dashboard is valid JSON on
the provisioned datasource. (scripts.monitoring: test_monitoring_cli.py.)"""
import functools
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from scripts import monitoring
from scripts.core.paths import PROJECT_DIR
from scripts.observability import prometheus as monitoring_native

MONITORING = PROJECT_DIR / "monitoring"
COMPOSE = MONITORING / "docker-compose.yml"
PROMETHEUS = MONITORING / "prometheus"
DATASOURCES = MONITORING / "grafana" / "provisioning" / "datasources"
DASHBOARD_PROVIDERS = MONITORING / "grafana" / "provisioning" / "dashboards"
DASHBOARDS = sorted((MONITORING / "grafana" / "dashboards").glob("*.json"))
THRESHOLD = re.compile(r"\s*(==|!=|>=|<=|>|<)\s*[-+]?[0-9.]+(e[-+]?[0-9]+)?\s*$")

needs_compose = pytest.mark.skipif(shutil.which("docker-compose") is None,
                                   reason="needs docker-compose (Debian package `docker-compose`)")
needs_promtool = pytest.mark.skipif(shutil.which("promtool") is None,
                                    reason="needs promtool (Debian package `prometheus`)")


@functools.lru_cache(maxsize=None)
def compose_config(profile: str, grafana_password: str = "") -> dict:
    """`docker-compose config`: the file as compose reads it, variables filled in (read-only: shared)."""
    env = {"PATH": "/usr/bin:/bin", **({"GRAFANA_ADMIN_PASSWORD": grafana_password} if grafana_password else {})}
    result = subprocess.run(["docker-compose", "-f", str(COMPOSE), "-p", "check", "--profile", profile, "config"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def services_of(config: dict, profile: str) -> dict:
    return {name: svc for name, svc in config["services"].items() if profile in svc.get("profiles", [])}


# ---------------------------------------------------------------- docker-compose.yml
@needs_compose
@pytest.mark.parametrize("profile", monitoring.PROFILES)
def test_compose_parses_and_mounts_files_that_exist(profile):
    config = compose_config(profile)
    services = services_of(config, profile)
    assert sorted(services) == sorted(["prometheus", "grafana"] if profile == "bridge"
                                      else ["prometheus-host", "grafana-host"])
    for name, service in services.items():
        image, _, tag = service["image"].partition(":")
        assert tag and tag != "latest", f"{name}: pin the image version"
        for volume in service["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("/"):
                assert Path(source).exists(), f"{name} mounts {source}, which does not exist"
            else:
                assert source in config["volumes"], f"{name}: {source} is not a named volume"
    assert set(config["volumes"]) == {"prometheus-data", "grafana-data"}


@needs_compose
def test_bridge_profile_reaches_the_host_and_publishes_on_loopback_only():
    services = services_of(compose_config("bridge"), "bridge")
    assert services["prometheus"]["extra_hosts"] == ["host.docker.internal:host-gateway"]
    assert services["prometheus"]["ports"] == ["127.0.0.1:47090:9090/tcp"]
    assert services["grafana"]["ports"] == ["127.0.0.1:47300:3000/tcp"]
    assert services["grafana"]["environment"]["PROMETHEUS_URL"] == "http://prometheus:9090"


@needs_compose
def test_host_profile_listens_on_loopback_and_maps_the_host_name_to_it():
    services = services_of(compose_config("host"), "host")
    prometheus, grafana = services["prometheus-host"], services["grafana-host"]
    assert prometheus["network_mode"] == grafana["network_mode"] == "host"
    assert "ports" not in prometheus and "ports" not in grafana  # compose v1 refuses ports with host networking
    assert "--web.listen-address=127.0.0.1:47090" in prometheus["command"]
    assert prometheus["extra_hosts"] == ["host.docker.internal:127.0.0.1"]
    assert grafana["environment"]["GF_SERVER_HTTP_ADDR"] == "127.0.0.1"
    assert grafana["environment"]["GF_SERVER_HTTP_PORT"] == "47300"
    assert grafana["environment"]["PROMETHEUS_URL"] == "http://127.0.0.1:47090"


@needs_compose
def test_grafana_password_comes_from_the_environment_else_the_default():
    chosen = services_of(compose_config("bridge", "from-dotenv-123"), "bridge")
    assert chosen["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"] == "from-dotenv-123"
    default = services_of(compose_config("bridge"), "bridge")
    assert default["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"] == monitoring.DEFAULT_PASSWORD


@needs_compose
def test_grafana_loads_the_provisioning_and_dashboards_the_files_name():
    grafana = services_of(compose_config("bridge"), "bridge")["grafana"]
    mounts = dict(v.split(":")[:2] for v in grafana["volumes"])
    env = grafana["environment"]
    assert mounts[str(MONITORING / "grafana" / "dashboards")] == env["GATEWAY_DASHBOARDS_DIR"]
    assert mounts[str(MONITORING / "grafana" / "provisioning")] == "/etc/grafana/provisioning"
    home = Path(env["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"])
    assert home.parent == Path(env["GATEWAY_DASHBOARDS_DIR"]) and (MONITORING / "grafana" / "dashboards" / home.name).exists()
    (provider,) = yaml.safe_load((DASHBOARD_PROVIDERS / "claude-gateway.yml").read_text())["providers"]
    assert provider["options"]["path"] == "${GATEWAY_DASHBOARDS_DIR}"
    (source,) = yaml.safe_load((DATASOURCES / "prometheus.yml").read_text())["datasources"]
    assert source["url"] == "${PROMETHEUS_URL}"


# ---------------------------------------------------------------- Prometheus
@needs_promtool
@pytest.mark.parametrize("check", [["check", "config", "prometheus.yml"], ["check", "rules", "alerts.yml"],
                                   ["test", "rules", "alerts_test.yml"]], ids=" ".join)
def test_promtool(check):
    result = subprocess.run(["promtool", *check], cwd=PROMETHEUS, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def alert_rules() -> list:
    return [rule for group in yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
            for rule in group["rules"]]


def test_each_alert_can_be_acted_on_and_has_a_unit_test():
    cases = [case for test in yaml.safe_load((PROMETHEUS / "alerts_test.yml").read_text())["tests"]
             for case in test["alert_rule_test"]]
    fires = {case["alertname"] for case in cases if case["exp_alerts"]}
    silent = {case["alertname"] for case in cases if not case["exp_alerts"]}
    names = [rule["alert"] for rule in alert_rules()]
    assert {"LiteLLMProxyDown", "AnthropicInCooldown", "FallbackRateHigh", "ErrorRateHigh", "LatencyHigh",
            "SubscriptionWindowNearLimit"} <= set(names)
    for rule in alert_rules():
        assert THRESHOLD.search(rule["expr"].strip()), f"{rule['alert']}: expr must end with its threshold"
        assert rule["labels"]["severity"] in ("info", "warning", "critical")
        assert len(rule["annotations"]["summary"]) < 160 and len(rule["annotations"]["description"]) > 80
        assert rule["alert"] in fires and rule["alert"] in silent, \
            f"{rule['alert']}: alerts_test.yml needs a case where it fires and one where it does not"


def test_prometheus_scrapes_the_proxy_metrics_path_with_its_trailing_slash():
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    (job,) = [job for job in config["scrape_configs"] if job["job_name"] == monitoring_native.JOB]
    assert job["metrics_path"] == "/metrics/"
    assert job["static_configs"] == [{"targets": [f"host.docker.internal:{monitoring.SCRAPED_PORT}"]}]
    assert config["global"]["scrape_interval"] == "15s"
    assert config["rule_files"] == ["alerts.yml"]


# ---------------------------------------------------------------- Grafana
def datasource_uids(node) -> list:
    """Every datasource uid a dashboard refers to, wherever it sits."""
    if isinstance(node, dict):
        found = [node["datasource"]["uid"]] if isinstance(node.get("datasource"), dict) else []
        return found + [uid for value in node.values() for uid in datasource_uids(value)]
    if isinstance(node, list):
        return [uid for item in node for uid in datasource_uids(item)]
    return []


def test_provisioned_datasource_has_a_fixed_uid():
    (source,) = yaml.safe_load((DATASOURCES / "prometheus.yml").read_text())["datasources"]
    assert source["type"] == "prometheus" and source["uid"] == "claude-gateway-prometheus"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_is_valid_with_unique_ids_on_the_provisioned_datasource(path):
    dashboard = json.loads(path.read_text())
    (source,) = yaml.safe_load((DATASOURCES / "prometheus.yml").read_text())["datasources"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    assert set(datasource_uids(dashboard)) - {"-- Grafana --"} == {source["uid"]}
    assert dashboard["uid"] and dashboard["title"]
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            continue
        assert panel["targets"] and all(t["expr"] for t in panel["targets"]), panel["title"]
        assert panel.get("description"), f"{panel['title']}: say what it shows"
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
    names = [v["name"] for v in dashboard["templating"]["list"]]
    assert names == ["model", "provider"]


def test_dashboard_covers_the_questions_it_is_for():
    text = DASHBOARDS[0].read_text()
    for metric in ("litellm_deployment_successful_fallbacks_total", "gateway_fallback_failures_total",
                   "litellm_deployment_cooled_down_total", "litellm_deployment_state",
                   "litellm_proxy_failed_requests_metric_total", "litellm_request_total_latency_metric_bucket",
                   "litellm_llm_api_latency_metric_bucket", "litellm_overhead_latency_metric_bucket",
                   "litellm_llm_api_time_to_first_token_metric_bucket", "litellm_input_tokens_metric_total",
                   "litellm_output_tokens_metric_total", "litellm_input_cached_tokens_metric_total",
                   "litellm_input_cache_creation_tokens_metric_total", "litellm_spend_metric_total",
                   "gateway_subscription_window_utilization", "gateway_subscription_window_reset_timestamp_seconds",
                   "gateway_subscription_status", "gateway_subscription_cooldown_until_timestamp_seconds"):
        assert metric in text, metric
