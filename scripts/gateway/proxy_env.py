"""The proxy's environment beyond settings.proxy_environment: what several workers and a
shared Redis need (in_proxy/serving.py, gateway/shared_state.py)."""
from typing import Dict

from scripts.core import paths
from scripts.core import settings as settings_mod
from scripts.gateway import readiness, shared_state


def environment(cfg: settings_mod.Settings) -> Dict[str, str]:
    """The proxy's environment: settings.proxy_environment, LiteLLM's shared-state knobs
    (the shell's value wins, for `make bench` candidates), where each worker says it
    listens (readiness.py), and with several workers the directory their Prometheus
    samples meet in (one per state directory: two instances never wipe each other's)."""
    env = settings_mod.proxy_environment(cfg)
    for key, value in shared_state.proxy_variables(cfg).items():
        env.setdefault(key, value)
    if cfg.workers > 1:
        env["PROMETHEUS_MULTIPROC_DIR"] = str(paths.state_dir() / "prometheus-multiproc")
    env[readiness.READY_DIR_VAR] = str(readiness.ready_dir())
    return env
