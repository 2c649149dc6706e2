"""Annotation rubrics are data: one YAML file per rubric in `filters/rubrics/` (or a folder of yours).

A rubric is a grading instruction, its score scale, the cut that makes a grade "good" and a few
graded examples. For a base model it is rendered as a few-shot completion that ends in "Score:"
(the examples teach the answer's shape); for an instruct model as one chat message that asks for
"Score: N" and "Reason: ...". `parse` reads the grade and the short justification back; an answer
with no grade, or one outside the scale, is a named failure, never a guess.
"""
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from curate import resources

RUBRICS = resources.rubrics()
_SCORE = re.compile(r"score\s*(?:\(\s*\d+\s*-\s*\d+\s*\))?\s*[:=]?\s*\**\s*(-?\d+(?:\.\d+)?)", re.IGNORECASE)
_REASON = re.compile(r"(?:reason|justification)\s*[:=]\s*\**\s*(.+)", re.IGNORECASE)
MAX_REASON_CHARS = 300


class Example(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str
    score: float
    reason: str


@dataclass
class Grade:
    """A parsed answer: `score` None means it failed, and `reason` then names why (`annotate_*`)."""

    score: float | None
    reason: str
    detail: str = ""


class Rubric(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = ""
    description: str = ""
    instruction: str
    scale: tuple[float, float] = (0, 5)
    cut: float = Field(3, description="A grade >= cut counts as good (binary training, F1 at the cut)")
    examples: list[Example] = Field(default_factory=list)
    stop: list[str] = Field(default_factory=lambda: ["\n\n", "Text:"], description="Stops (completion mode)")
    chat_request: str = Field("Answer with one line `Score: N` (N from {low:g} to {high:g}), then one line "
                              "`Reason: ` and one short sentence.", description="Closing line of a chat message")

    @model_validator(mode="after")
    def _cut_in_scale(self):
        low, high = self.scale
        if not low < high or not low <= self.cut <= high:
            raise ValueError(f"rubric {self.name!r}: need scale low < high and the cut inside it, "
                             f"got scale {list(self.scale)}, cut {self.cut}")
        return self

    def render(self, text: str, mode: str = "completion") -> str:
        """The request text for one document (already cut to length)."""
        shots = "".join(f"Text: {ex.text.strip()}\nScore: {ex.score:g}\nReason: {ex.reason.strip()}\n\n"
                        for ex in self.examples)
        head = f"{self.instruction.strip()}\n\n{shots}Text: {text.strip()}\n"
        if mode == "chat":
            low, high = self.scale
            return head + "\n" + self.chat_request.format(low=low, high=high)
        return head + "Score:"

    def stops(self, mode: str) -> list[str]:
        """A chat answer puts its reason on a later line, so only completions stop at a blank line."""
        return list(self.stop) if mode == "completion" else []

    def parse(self, answer: str, mode: str = "completion") -> Grade:
        """The grade and justification in a model's answer (a completion continues after "Score:")."""
        text = ("Score:" + answer) if mode == "completion" else answer
        found = _SCORE.search(text)
        if found is None:
            return Grade(None, "annotate_unparseable", f"no `Score: N` in the answer: {answer.strip()[:200]!r}")
        score = float(found[1])
        low, high = self.scale
        if not low <= score <= high:
            return Grade(None, "annotate_out_of_range", f"score {score:g} outside {low:g}-{high:g}")
        rest = text[found.end():]
        said = _REASON.search(rest) or _REASON.search(text)
        reason = said[1] if said else rest.strip(" .:\n*")
        return Grade(score, " ".join(reason.split())[:MAX_REASON_CHARS])


def rubric_names(folder: str | Path | None = None) -> list[str]:
    return sorted(p.stem for p in Path(folder or RUBRICS).glob("*.yaml"))


def load_rubric(name: str, folder: str | Path | None = None) -> Rubric:
    """Load `<folder>/<name>.yaml` (a user folder first, then the shipped rubrics)."""
    for base in ([Path(folder)] if folder else []) + [RUBRICS]:
        path = base / f"{name}.yaml"
        if path.is_file():
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            if not isinstance(data, dict):
                raise ValueError(f"rubric {path} is not a mapping")
            return Rubric(name=name, **data)
    known = sorted(set(rubric_names(folder) if folder else []) | set(rubric_names()))
    raise ValueError(f"unknown rubric '{name}'; known rubrics: {', '.join(known)}")
