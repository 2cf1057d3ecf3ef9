"""The one reader of LiteLLM's Prometheus text (GET /metrics/): status, demo and the
monitoring checks all read samples through parse()."""
import re
from dataclasses import dataclass
from typing import Dict, Iterable, List

_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class Sample:
    name: str
    labels: Dict[str, str]
    value: float

    def series(self, keep: Iterable[str] = ()) -> str:
        """name{...} with only the labels in keep that carry a value."""
        shown = [f'{key}="{value}"' for key, value in self.labels.items()
                 if key in keep and value not in ("", "None")]
        return f"{self.name}{{{', '.join(shown)}}}" if shown else self.name


def parse(text: str) -> List[Sample]:
    """Every sample line of the exposition text; comments and malformed lines are skipped."""
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        name, brace, labels = head.partition("{")
        try:
            number = float(value)
        except ValueError:
            continue
        samples.append(Sample(name.strip(), dict(_LABEL.findall(labels)) if brace else {}, number))
    return samples
