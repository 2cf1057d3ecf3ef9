"""Which model group answered each requested model last, for `make status`, and which
tier answered the latest request, for `claude-gateway statusline`.

A LiteLLM callback that the effective config always registers (`litellm_settings.callbacks`).
On every successful answer it compares the group that answered (e.g. glm-4.6, after
claude-sonnet-4-5 and its Bedrock twin refused) with the last one it saw for that requested
model, and only when that changes rewrites state/last-answers.json; likewise it rewrites
state/answered-by.json only when the tier of the latest answer changes (subscription, API
key, Bedrock, a tier after Bedrock): a switch of tier costs one small write, a request nothing.
answered-by.json also names this process (pid and start time), so that the status line tells
a running proxy from a file a stopped one left behind without asking the proxy.
"""
import json
import os
import time
from typing import Dict, Optional

from litellm.integrations.custom_logger import CustomLogger
from litellm.litellm_core_utils.core_helpers import get_litellm_metadata_from_kwargs

from scripts.core import paths, procs
from scripts.core.files import PRIVATE, write_atomic
from scripts.gateway import credential_tiers


def answer_of(kwargs: dict) -> Optional[tuple]:
    """(requested model group, group that answered, its upstream model) of a successful call."""
    metadata = get_litellm_metadata_from_kwargs(kwargs) or {}
    answered = metadata.get("model_group")
    requested = metadata.get("original_model_group") or answered
    if not isinstance(answered, str) or not isinstance(requested, str):
        return None
    return requested, answered, str(metadata.get("deployment") or "")


def tier_of(kwargs: dict, upstream: str) -> str:
    """The tier a successful call was answered by: "subscription", "API key", "Bedrock", or
    "tier" (a model of CLAUDE_FALLBACK_AFTER_BEDROCK or another upstream: its group names it)."""
    model_info = (kwargs.get("litellm_params") or {}).get("model_info") or {}
    if model_info.get("gateway_tier") == credential_tiers.TIER:
        return "subscription"
    provider = upstream.split("/", 1)[0]
    return {"anthropic": "API key", "bedrock": "Bedrock"}.get(provider, "tier")


class LastAnswer(CustomLogger):
    def __init__(self) -> None:
        super().__init__()
        self.answers: Dict[str, dict] = {}
        self.latest: dict = {"pid": os.getpid(), "started": procs.start_time(os.getpid()), "up_since": time.time()}
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
        self.latest.update(tier=tier, model_group=answered, requested=requested, since=time.time(),
                           pid=os.getpid(), started=procs.start_time(os.getpid()))
        self._write_latest()

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time) -> None:
        answer = answer_of(kwargs)
        if answer is None:
            return
        requested, answered, upstream = answer
        self.note_latest(tier_of(kwargs, upstream), requested, answered)
        if self.answers.get(requested, {}).get("model_group") == answered:
            return
        self.answers[requested] = {"model_group": answered, "upstream": upstream, "since": time.time()}
        self._write()


handler = LastAnswer()
