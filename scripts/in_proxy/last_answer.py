"""Which model group answered each requested model last, for `make status`, and which
tier answered the latest request, for `claude-gateway statusline`.

A LiteLLM callback that the effective config always registers (`litellm_settings.callbacks`).
On every successful answer it compares the group that answered (e.g. glm-4.6, after
claude-sonnet-4-5 and its Bedrock twin refused) with the last one it saw for that requested
model, and only when that changes rewrites state/last-answers.json; likewise it rewrites
state/answered-by.json only when the tier of the latest answer changes (subscription, API
key, Bedrock, a tier after Bedrock): a switch of tier costs one small write, a request nothing.
While it runs, each proxy process holds a shared lock on state/proxy-alive.lock: the kernel
drops it when the process ends (however it ends), so the status line tells a running proxy
from the files a stopped one left behind by trying the lock, without asking the proxy.
"""
import fcntl
import json
import os
import sys
import time
from typing import Dict, Optional

from scripts.core import paths
from scripts.core.files import PRIVATE, write_atomic
from scripts.gateway import credential_tiers, effective_config, process
from scripts.in_proxy.litellm_surface import CustomLogger, get_litellm_metadata_from_kwargs


def answer_of(kwargs: dict) -> Optional[tuple]:
    """(requested model group, group that answered, its upstream model) of a successful call."""
    metadata = get_litellm_metadata_from_kwargs(kwargs) or {}
    answered = metadata.get("model_group")
    requested = metadata.get("original_model_group") or answered
    if not isinstance(answered, str) or not isinstance(requested, str):
        return None
    return requested, answered, str(metadata.get("deployment") or "")


def tier_of(kwargs: dict, upstream: str) -> str:
    """The tier a successful call was answered by: "subscription", "API key", "Bedrock", "tier N"
    (a model of CLAUDE_FALLBACK_AFTER_BEDROCK, numbered as `make status` numbers it: 3 is the
    first after Bedrock), or "" (another model: its group names it)."""
    model_info = (kwargs.get("litellm_params") or {}).get("model_info") or {}
    if model_info.get("gateway_tier") == credential_tiers.TIER:
        return "subscription"
    if isinstance(model_info.get(effective_config.TIER_NUMBER_INFO), int):
        return f"tier {model_info[effective_config.TIER_NUMBER_INFO]}"
    provider = upstream.split("/", 1)[0]
    return {"anthropic": "API key", "bedrock": "Bedrock"}.get(provider, "")


def hold_alive_lock() -> int:
    """A shared lock on proxy-alive.lock, held (the descriptor kept open) until this process ends."""
    lock = paths.proxy_alive_lock()
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def in_the_proxy() -> bool:
    """Whether this process is the proxy (python -m scripts.in_proxy.litellm_main, or a worker forked
    from it), not LiteLLM's config loader that `make restart` and `make update-models` run first
    (scripts/gateway/config_check.py): that one must neither look like a running proxy nor
    overwrite the running proxy's records."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return getattr(spec, "name", None) == process.PROXY_MODULE


class LastAnswer(CustomLogger):
    def __init__(self) -> None:
        super().__init__()
        self.answers: Dict[str, dict] = {}
        self.serving = in_the_proxy()
        if not self.serving:
            return
        self._alive = hold_alive_lock()
        self.latest: dict = {"pid": os.getpid(), "up_since": time.time()}
        self._write()  # a new proxy has answered nothing yet: forget the last run's answers
        self._write_latest()

    def _write(self) -> None:
        write_atomic(paths.last_answers_file(), json.dumps(self.answers, indent=1, sort_keys=True) + "\n",
                     mode=PRIVATE)

    def _write_latest(self) -> None:
        write_atomic(paths.answered_by_file(), json.dumps(self.latest, sort_keys=True) + "\n", mode=PRIVATE)
        self._written = self._file_stamp()

    @staticmethod
    def _file_stamp() -> int:
        try:
            return paths.answered_by_file().stat().st_mtime_ns
        except OSError:
            return 0

    def _reload_if_rewritten(self) -> None:
        """With several workers, another one may have written the latest answer since this one did."""
        if self._file_stamp() == self._written:
            return
        try:
            self.latest = json.loads(paths.answered_by_file().read_text())
        except (OSError, ValueError):
            self.latest = {}
        self._written = self._file_stamp()

    def note_latest(self, tier: str, requested: str, answered: str) -> None:
        """Rewrite answered-by.json when the latest answer's tier (or group) differs from the one before."""
        self._reload_if_rewritten()
        if (self.latest.get("tier"), self.latest.get("model_group")) == (tier, answered):
            return
        self.latest.setdefault("up_since", time.time())
        self.latest.update(tier=tier, model_group=answered, requested=requested, since=time.time(), pid=os.getpid())
        self._write_latest()

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time) -> None:
        answer = answer_of(kwargs) if self.serving else None
        if answer is None:
            return
        requested, answered, upstream = answer
        self.note_latest(tier_of(kwargs, upstream), requested, answered)
        if self.answers.get(requested, {}).get("model_group") == answered:
            return
        self.answers[requested] = {"model_group": answered, "upstream": upstream, "since": time.time()}
        self._write()


handler = LastAnswer()
