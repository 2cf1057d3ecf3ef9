"""The story `make demo` tells, judged: pure functions from what the demo observed
(the client's answers, the simulators' records of the calls they got, the proxy's
counter deltas) to the lines it prints, or StepFailed saying what happened instead.

Nothing here talks to a process, so each claim is unit-tested with recorded data."""
import json
from dataclasses import dataclass
from typing import Dict, Iterable, List, Sequence

from scripts.core.errors import ToolkitError


class StepFailed(ToolkitError):
    """What a step was to show did not happen; the message says what did, and lines (if
    any) what the step measured before it knew."""

    def __init__(self, message: str, lines: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.lines = list(lines)


@dataclass(frozen=True)
class Answer:
    """One request through the proxy, as the client saw it."""
    status: int  # 0: no HTTP answer at all
    deployment: str  # LiteLLM's x-litellm-model-name: the deployment that answered
    upstream: str  # Anthropic or Bedrock, from the deployment
    ms: float
    error: str = ""  # the error message of a failed request


@dataclass(frozen=True)
class Seen:
    """The status of each inference call the simulators recorded, in order."""
    anthropic: List[int]
    bedrock: List[int]

    def since(self, before: "Seen") -> "Seen":
        return Seen(self.anthropic[len(before.anthropic):], self.bedrock[len(before.bedrock):])


def calls(statuses: Sequence[int]) -> str:
    """'no call', '1 call (429)', '3 calls (200, 200, 200)'."""
    if not statuses:
        return "no call"
    return f"{len(statuses)} call{'s' if len(statuses) > 1 else ''} ({', '.join(map(str, statuses))})"


def _require(condition: bool, reason: str) -> None:
    if not condition:
        raise StepFailed(reason)


def _answered(answer: Answer, upstream: str, seen: Seen) -> None:
    sims = f"Anthropic saw {calls(seen.anthropic)}, Bedrock saw {calls(seen.bedrock)}"
    _require(answer.status != 0, f"the client got no answer ({answer.error}); {sims}")
    _require(answer.status == 200, f"the client got HTTP {answer.status} ({answer.error}); {sims}")
    _require(answer.upstream == upstream, f"answered by {answer.deployment or 'an unnamed deployment'}, "
                                          f"not {upstream}; {sims}")


def _who(answer: Answer) -> str:
    return f"{answer.upstream} ({answer.deployment}) in {answer.ms:.0f} ms"


def judge_normal(answer: Answer, seen: Seen) -> List[str]:
    _answered(answer, "Anthropic", seen)
    _require(seen.anthropic == [200] and not seen.bedrock,
             f"Anthropic saw {calls(seen.anthropic)} and Bedrock saw {calls(seen.bedrock)} for one request")
    return [f"answered by {_who(answer)}: HTTP {answer.status}; Anthropic saw {calls(seen.anthropic)}, "
            f"Bedrock saw {calls(seen.bedrock)}"]


def judge_rate_limited(answer: Answer, seen: Seen) -> List[str]:
    _answered(answer, "Bedrock", seen)
    _require(seen.anthropic == [429], f"Anthropic saw {calls(seen.anthropic)} where one 429 was expected")
    _require(seen.bedrock == [200], f"Bedrock saw {calls(seen.bedrock)} where one answer was expected")
    return [f"the same request is answered by {_who(answer)}",
            f"Anthropic saw {calls(seen.anthropic)}, Bedrock saw {calls(seen.bedrock)}; "
            f"the client got HTTP {answer.status}, not the 429"]


def judge_cooldown(answers: List[Answer], seen: Seen, seconds_into_window: float, window: float) -> List[str]:
    _require(seconds_into_window < window,
             f"the requests ended {seconds_into_window:.1f}s after the rate limit began, past its {window:g}s "
             "window, so the cooldown could not be shown (a busy machine?): run `make demo` again")
    for answer in answers:
        _answered(answer, "Bedrock", seen)
    _require(not seen.anthropic, f"Anthropic got {calls(seen.anthropic)} during its cooldown")
    _require(seen.bedrock == [200] * len(answers),
             f"Bedrock saw {calls(seen.bedrock)} for {len(answers)} requests")
    return [f"answered by {_who(answer)}" for answer in answers] + [
        f"Anthropic calls during the window: {len(seen.anthropic)}, so no request waited on a 429; "
        f"Bedrock answered {len(seen.bedrock)} of {len(answers)}"]


def judge_recovered(answer: Answer, seen: Seen, whole_demo: Seen) -> List[str]:
    _answered(answer, "Anthropic", seen)
    _require(seen.anthropic == [200] and not seen.bedrock,
             f"Anthropic saw {calls(seen.anthropic)} and Bedrock saw {calls(seen.bedrock)} after the window")
    served = whole_demo.bedrock.count(200)
    return [f"answered by {_who(answer)}",
            f"Bedrock answered {served} request{'s' if served != 1 else ''} in all (its simulator's records)"]


def judge_counters(deltas: Dict[str, float], bedrock_answers: int) -> List[str]:
    """LiteLLM's own counters must tell the same story: one fallback per Bedrock answer,
    one cooldown for the one rate limit."""
    def total(word: str) -> float:
        return sum(v for series, v in deltas.items() if word in series.split("{")[0])
    fallbacks, cooldowns = total("successful_fallbacks"), total("cooled_down")
    _require(fallbacks == bedrock_answers,
             f"LiteLLM counted {fallbacks:g} successful fallbacks for {bedrock_answers} Bedrock answers")
    _require(cooldowns == 1, f"LiteLLM counted {cooldowns:g} cooldowns for one rate limit")
    return [f"+{delta:<4.0f} {series}" for series, delta in sorted(deltas.items()) if delta] + [
        f"LiteLLM counted {fallbacks:g} successful fallbacks and {cooldowns:g} cooldown, as the simulators saw"]


def error_message(body: bytes) -> str:
    """The message of an Anthropic- or OpenAI-shaped error body, on one short line."""
    text = body.decode("utf-8", errors="replace")
    try:
        error = json.loads(text).get("error")
        text = str(error.get("message", error) if isinstance(error, dict) else error or text)
    except (ValueError, AttributeError):
        pass
    text = " ".join(text.split())
    return text[:160] + ("..." if len(text) > 160 else "")
