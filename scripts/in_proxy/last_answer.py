"""Which model group answered each requested model last, for `make status`.

A LiteLLM callback that the effective config registers with the tiers after Bedrock
(`litellm_settings.callbacks`). On every successful answer it compares the group that
answered (e.g. glm-4.6, after claude-sonnet-4-5 and its Bedrock twin refused) with the
last one it saw for that requested model, and only when that changes rewrites
state/last-answers.json: a switch of tier costs one small write, a request nothing.
"""
import json
import time
from typing import Dict, Optional

from litellm.integrations.custom_logger import CustomLogger
from litellm.litellm_core_utils.core_helpers import get_litellm_metadata_from_kwargs

from scripts.core import paths
from scripts.core.files import PRIVATE, write_atomic


def answer_of(kwargs: dict) -> Optional[tuple]:
    """(requested model group, group that answered, its upstream model) of a successful call."""
    metadata = get_litellm_metadata_from_kwargs(kwargs) or {}
    answered = metadata.get("model_group")
    requested = metadata.get("original_model_group") or answered
    if not isinstance(answered, str) or not isinstance(requested, str):
        return None
    return requested, answered, str(metadata.get("deployment") or "")


class LastAnswer(CustomLogger):
    def __init__(self) -> None:
        super().__init__()
        self.answers: Dict[str, dict] = {}
        self._write()  # a new proxy has answered nothing yet: forget the last run's answers

    def _write(self) -> None:
        write_atomic(paths.last_answers_file(), json.dumps(self.answers, indent=1, sort_keys=True) + "\n",
                     mode=PRIVATE)

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time) -> None:
        answer = answer_of(kwargs)
        if answer is None:
            return
        requested, answered, upstream = answer
        if self.answers.get(requested, {}).get("model_group") == answered:
            return
        self.answers[requested] = {"model_group": answered, "upstream": upstream, "since": time.time()}
        self._write()


handler = LastAnswer()
