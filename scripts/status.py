"""`make status`: everything at a glance, in well under a second.

Proxy (running, healthy, port, version, uptime), the login services, the
Anthropic credentials and the tiers they make, the AWS SSO login, the ChatGPT/Copilot
logins that exist (a refused one says so: scripts/auth/tokens.py), where Claude Code
goes, the models, the subscription's usage windows, whether LiteLLM has the
Anthropic API-key primary in cooldown and, with tiers after Bedrock, which tier
answered each model last (state/last-answers.json, written by the proxy:
scripts/in_proxy/last_answer.py). Reads files and asks the running proxy; never
imports boto3 or litellm.

Cooldown comes from the proxy's Prometheus metrics (GET /metrics/, master key):
LiteLLM 1.106.2 counts each cooldown in litellm_deployment_cooled_down_total
and sets litellm_deployment_state (0 healthy, 1 partial outage) per deployment
on every answer. Its cooldown series of litellm_deployment_state stays at 2 for
good (it is never reset), so a deployment counts as cooling down when it was
cooled down and its last answer was not a success.
"""
import datetime as dt
import json
import os
import subprocess
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from scripts.auth import credentials
from scripts.claude import rcfile
from scripts.claude.blocks import SHELLS, display_path, rc_path, read_mode
from scripts.core import configfile, paths, procs
from scripts.core import settings as settings_mod
from scripts.core.errors import ToolkitError, entry_point
from scripts.core.http import request
from scripts.gateway import effective_config, process
from scripts.gateway import credential_tiers
from scripts.gateway.client import installed_version
from scripts.observability import subscription_usage
from scripts.observability.metrics import parse as parse_metrics
from scripts.services import platform as platform_info
from scripts.services import redis_local
from scripts.services import state as service_status

HTTP_TIMEOUT = 0.8


def _row(label: str, value: str) -> str:
    return f"{label:<14} {value}"


def _get(cfg: settings_mod.Settings, path: str, auth: bool = False):
    headers = {"Authorization": f"Bearer {cfg.master_key}"} if auth and cfg.master_key else {}
    try:
        return request("GET", cfg.base_url + path, headers=headers, timeout=HTTP_TIMEOUT)
    except OSError as exc:
        return exc


def _ask_proxy(cfg: settings_mod.Settings) -> Dict[str, object]:
    """The proxy's answers. The metrics come last: LiteLLM's first /metrics/ answer
    after a start takes seconds and holds up everything else the proxy answers."""
    with ThreadPoolExecutor(2) as pool:
        ready = pool.submit(_get, cfg, "/health/readiness")
        details = pool.submit(_get, cfg, "/health/readiness/details", True)
        answers = {"ready": ready.result(), "details": details.result()}
    answers["metrics"] = answers["ready"] if isinstance(answers["ready"], OSError) else _get(cfg, "/metrics/", True)
    return answers


def uptime(pid: int) -> Optional[str]:
    seconds: Optional[float] = None
    try:
        start_ticks = int((procs.stat_fields(pid) or [])[19])
        since_boot = float(Path("/proc/uptime").read_text().split()[0])
        seconds = since_boot - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        out = subprocess.run(["ps", "-o", "etime=", "-p", str(pid)], capture_output=True, text=True).stdout.strip()
        return out or None
    minutes = int(seconds) // 60
    days, hours, minutes = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"{days}d{hours}h"
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{int(seconds) % 60:02d}s"


def proxy_rows(cfg: settings_mod.Settings, platform: str, answers: Dict[str, object]) -> List[str]:
    pid, by = process.running_pid(), "make up"
    service_state, service_pid = service_status.describe("proxy", platform)
    if pid is None and service_pid:
        pid, by = service_pid, "the login service"
    ready = answers["ready"]
    if isinstance(ready, OSError):
        state = f"not answering at {cfg.base_url} ({ready})" + ("" if pid else ": `make up` starts it")
    else:
        body = _json(ready.body)
        healthy = ready.status == 200 and body.get("status") == "healthy"
        health = "healthy" if healthy else f"UNHEALTHY ({ready.status} {body.get('status')})"
        state = f"{health} at {cfg.base_url}, port {cfg.port}"
    running = f"running (pid {pid}, up {uptime(pid)}, started by {by}), " if pid else ""
    details = answers["details"]
    version = (_json(details.body).get("litellm_version") if not isinstance(details, OSError) else None)
    return [_row("proxy", running + state),
            _row("LiteLLM", f"{version} (running)" if version else f"{installed_version('litellm')} (installed)"),
            _row("service", service_state + ("" if service_state != "not installed" else
                                             ": `make install-service` starts the proxy at login")),
            _row("SSO refresher", _timer_state(platform))]


def _timer_state(platform: str) -> str:
    state, _ = service_status.describe("sso-refresh", platform)
    return state + (": `make install-sso-refresh`" if state == "not installed" else "")


def _json(body: bytes) -> dict:
    try:
        value = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def anthropic_row(cfg: settings_mod.Settings) -> str:
    return _row("Anthropic", credentials.anthropic_text(cfg))


def claude_row() -> str:
    """Where new shells send Claude Code: the shell block decides, the mode file
    (`make toggle-claude`) picks proxy or direct; no block means direct."""
    blocks = [display_path(rc_path(shell)) for shell in SHELLS if rcfile.has_block(rc_path(shell))]
    if not blocks:
        return _row("Claude Code", "direct, not through the proxy (no shell block: `make configure-claude`)")
    mode = read_mode()
    return _row("Claude Code", f"{mode} (shell block in {', '.join(blocks)}; `make toggle-claude` switches)")


def keyless_rows(cfg: settings_mod.Settings) -> List[str]:
    """A warning while .env lets key-less Ollama clients in; nothing otherwise."""
    if not cfg.ollama_keyless:
        return []
    return [_row("Ollama API", f"WARNING: {settings_mod.OLLAMA_KEYLESS} is on: /api/* answers any program on "
                               "this machine without a key (remove it from .env and `make restart` to close)")]


def models_row(cfg: settings_mod.Settings) -> str:
    try:
        config = configfile.from_data(paths.config_file(), effective_config.load_and_render(cfg))
        own = {spec.alias for spec in cfg.model_specs}  # public even when they are tiers (fallback targets)
    except ToolkitError as exc:
        return _row("models", str(exc))
    from_env = f", {len(own)} of them from .env" if own else ""
    kind = "fallbacks" if cfg.fallback_tiers else "a Bedrock fallback"
    return _row("models", f"{len(set(config.public_models) | own)} names{from_env}, {len(config.fallbacks)} with "
                          f"{kind} ({paths.config_file()})")


def _since(epoch: object) -> str:
    try:
        return dt.datetime.fromtimestamp(float(epoch)).strftime("%H:%M:%S")  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return "?"


def tiers_row(cfg: settings_mod.Settings) -> Optional[str]:
    """With tiers after Bedrock: the models whose last answer came from a later tier than their own."""
    try:
        if not cfg.fallback_tiers:
            return None
        fallbacks = configfile.from_data(paths.config_file(), effective_config.load_and_render(cfg)).fallbacks
    except ToolkitError:
        return None  # models_row names the problem
    try:
        answers = json.loads(paths.last_answers_file().read_text())
    except (OSError, ValueError):
        answers = {}
    if not isinstance(answers, dict) or not answers:
        return _row("answered by", "no answer since the proxy started")
    later = []
    for requested, answer in sorted(answers.items()):
        group = answer.get("model_group") if isinstance(answer, dict) else None
        if group and group != requested:
            chain = [requested, *fallbacks.get(requested, [])]
            tier = f"tier {chain.index(group) + 1}" if group in chain else "a fallback"
            later.append(f"{requested} by {group} ({tier}, {answer.get('upstream') or '?'}, "
                         f"since {_since(answer.get('since'))})")
    return _row("answered by", "; ".join(later) if later else "every model by its own first tier")


def cooling_down(metrics: str) -> List[Tuple[str, str]]:
    """(model group, status that caused it) of each Anthropic API-key deployment in cooldown
    (the subscription twins have a row of their own)."""
    cooled: Dict[str, Tuple[str, str]] = {}
    last_answer: Dict[str, float] = {}
    for sample in parse_metrics(metrics):
        name, labels, value = sample.name, sample.labels, sample.value
        model_id = labels.get("model_id", "")
        if name == "litellm_deployment_cooled_down_total" and labels.get("api_provider") == "anthropic" and value \
                and not labels.get("litellm_model_name", "").endswith(credential_tiers.SUFFIX):
            cooled[model_id] = (labels.get("litellm_model_name", "?"), labels.get("exception_status", "?"))
        elif name == "litellm_deployment_state" and labels.get("api_provider") != "anthropic":
            last_answer[model_id] = value
    return sorted(group for model_id, group in cooled.items() if last_answer.get(model_id, 1.0) != 0.0)


def _metrics_text(answers: Dict[str, object]) -> Tuple[Optional[str], str]:
    """(the /metrics/ text, None) or (None, why it is unknown)."""
    metrics = answers["metrics"]
    if isinstance(metrics, OSError):
        return None, (f"unknown (no metrics within {HTTP_TIMEOUT}s: {metrics}; the first answer after "
                      "a start takes seconds: run `make status` again)")
    if metrics.status != 200:
        return None, f"unknown (GET /metrics/ answered {metrics.status})"
    return metrics.body.decode("utf-8", errors="replace"), ""


def subscription_row(cfg: settings_mod.Settings, answers: Dict[str, object]) -> str:
    text, unknown = _metrics_text(answers)
    if text is None:
        return _row("subscription", unknown)
    next_tier = credential_tiers.tier_paths(cfg)["Claude Code"][1]
    return _row("subscription", subscription_usage.describe(subscription_usage.read(parse_metrics(text)),
                                                            "the API key" if next_tier == "API key" else next_tier))


def primary_row(answers: Dict[str, object], after_bedrock: bool = False) -> str:
    text, unknown = _metrics_text(answers)
    if text is None:
        return _row("primary", unknown)
    cooled = cooling_down(text)
    if not cooled:
        return _row("primary", "Anthropic serving (no model in cooldown)")
    names = ", ".join(f"{group} (after {status})" for group, status in cooled)
    fallback = "Bedrock and the tiers after it answer" if after_bedrock else "Bedrock answers"
    return _row("primary", f"COOLDOWN: {names}: {fallback} until Anthropic does again")


def shared_state_row(cfg: settings_mod.Settings) -> str:
    """Where the workers' cooldowns live, and whether that Redis answers right now."""
    url, workers = cfg.get("REDIS_URL"), cfg.get("GATEWAY_WORKERS") or "1"
    if not url:
        return _row("shared state", f"in memory ({workers} worker{'s' if workers != '1' else ''}; REDIS_URL unset)")
    where = urllib.parse.urlsplit(url)
    place = where.path if where.scheme == "unix" else f"{where.hostname}:{where.port or 6379}"
    problem = redis_local.ping_url(url, timeout=HTTP_TIMEOUT / 2)
    if problem and problem != "not checked (TLS)":
        return _row("shared state", f"Redis at {place} NOT answering ({problem}): each worker keeps its own "
                                    "cooldowns until it is back (`make redis` starts the local one)")
    return _row("shared state", f"Redis at {place} {'answering' if not problem else problem}: {workers} "
                                f"worker{'s' if workers != '1' else ''} share cooldowns")


def _body(argv: List[str]) -> int:
    if argv:
        raise ToolkitError("status takes no arguments: run `make status`")
    cfg = settings_mod.load(validate=False)
    platform = platform_info.current()
    answers = _ask_proxy(cfg)
    rows: List[Optional[str]] = list(proxy_rows(cfg, platform, answers))
    rows += [anthropic_row(cfg), _row("tiers", credential_tiers.describe_paths(cfg)),
             _row("AWS SSO", service_status.aws_login_summary(cfg))]
    rows += credentials.login_rows(everything=False) + [claude_row(), models_row(cfg)]
    rows += keyless_rows(cfg)
    if not isinstance(answers["ready"], OSError):
        answered = tiers_row(cfg)
        if cfg.subscription_token:
            rows.append(subscription_row(cfg, answers))
        if cfg.api_key:
            rows.append(primary_row(answers, after_bedrock=answered is not None))
        rows.append(answered)
    rows.append(shared_state_row(cfg))
    print("\n".join(row for row in rows if row))
    return 0


main = entry_point(__name__, _body)
