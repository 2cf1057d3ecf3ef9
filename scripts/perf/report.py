"""The figures of `make bench` as rows, rendered as a table or as JSON.

Each row has the direct path (client -> simulator) and the proxied path
(client -> proxy -> simulator), their ratio and difference, and, where the
issue sets one, the target and whether this run met it."""
import json
from dataclasses import asdict, dataclass
from typing import Callable, Dict, List, Optional


@dataclass
class Row:
    section: str
    figure: str
    unit: str
    direct: Optional[float]
    proxy: Optional[float]
    target: str = ""
    met: Optional[bool] = None

    @property
    def ratio(self) -> Optional[float]:
        if self.direct and self.proxy is not None:
            return self.proxy / self.direct
        return None

    @property
    def added(self) -> Optional[float]:
        """proxy - direct, for times only."""
        if self.unit in ("ms", "s") and self.direct is not None and self.proxy is not None:
            return self.proxy - self.direct
        return None

    def as_dict(self) -> dict:
        return {**asdict(self), "ratio": _round(self.ratio), "added": _round(self.added),
                "direct": _round(self.direct), "proxy": _round(self.proxy)}


def _round(value: Optional[float]) -> Optional[float]:
    return None if value is None else round(value, 3)


def judge(row: Row, target: str, check: Callable[[Row], Optional[bool]]) -> Row:
    row.target = target
    try:
        row.met = check(row)
    except TypeError:  # a figure is missing
        row.met = None
    return row


def _fmt(value: Optional[float], unit: str = "") -> str:
    if value is None:
        return "n/a"
    if abs(value) >= 100:
        text = f"{value:.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return text + unit


def render(rows: List[Row], header: Dict[str, str], notes: List[str]) -> str:
    lines = [f"{key:<16} {value}" for key, value in header.items()]
    lines.append("")
    title = f"{'figure':<44}{'direct':>10}{'proxy':>10}{'ratio':>8}{'added':>10}  {'target':<16}"
    lines += [title, "-" * len(title)]
    section = None
    for row in rows:
        if row.section != section:
            section = row.section
            lines.append(section)
        ratio = "-" if row.ratio is None else f"{row.ratio:.0f}x" if row.ratio >= 10 else f"{row.ratio:.2f}x"
        verdict = {True: "met", False: "MISSED", None: ""}[row.met] if row.target else ""
        lines.append(f"  {row.figure + ' (' + row.unit + ')':<42}{_fmt(row.direct):>10}{_fmt(row.proxy):>10}"
                     f"{ratio:>8}{_fmt(row.added):>10}  {(row.target + ' ' + verdict).strip():<16}")
    if notes:
        lines += ["", "notes:"] + [f"  - {note}" for note in notes]
    return "\n".join(lines)


def to_json(rows: List[Row], header: Dict[str, str], notes: List[str], extra: Optional[dict] = None) -> str:
    return json.dumps({"header": header, "rows": [r.as_dict() for r in rows], "notes": notes, **(extra or {})},
                      indent=2)
