"""Prompt templates are data: one YAML file per prompt in `synth/templates/` (or a folder of yours).

A prompt is an instruction, a few worked examples and a response prefix. It is
rendered as a few-shot completion ("Text: ...\\nQuestion: ...") because that is
what gives a small base model its best chance; chat-tuned servers get the same
text as one user message. `kind` says how the output is parsed and checked.
"""
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from curate import resources

TEMPLATES = resources.prompt_templates()


class Example(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str
    output: str


class Prompt(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = ""
    kind: Literal["qa", "list", "text"]
    source_suffix: str = "/qa"
    instruction: str
    examples: list[Example] = Field(default_factory=list)
    response_prefix: str = ""
    stop: list[str] = Field(default_factory=lambda: ["\n\n"])
    answer_pattern: str | None = Field(None, description="qa: regex every answer must match (e.g. ^(Yes|No))")
    min_words: int = Field(5, description="text: shortest accepted output")
    min_items: int = Field(1, description="list: fewest accepted items")

    def render(self, chunk: str) -> str:
        shots = "".join(f"Text: {ex.text.strip()}\n{ex.output.strip()}\n\n" for ex in self.examples)
        return f"{self.instruction.strip()}\n\n{shots}Text: {chunk.strip()}\n{self.response_prefix}"

    def instruction_lines(self) -> list[str]:
        """Lines of the prompt's own wording; finding one in an output means the model echoed the prompt."""
        return [line.strip() for line in self.instruction.splitlines() if len(line.strip()) >= 20]


def prompt_names(folder: str | Path | None = None) -> list[str]:
    return sorted(p.stem for p in Path(folder or TEMPLATES).glob("*.yaml"))


def load_prompt(name: str, folder: str | Path | None = None) -> Prompt:
    """Load `<folder>/<name>.yaml` (a user folder first, then the built-in templates)."""
    for base in ([Path(folder)] if folder else []) + [TEMPLATES]:
        path = base / f"{name}.yaml"
        if path.exists():
            data = yaml.safe_load(path.read_text()) or {}
            return Prompt(name=name, **data)
    known = sorted(set(prompt_names(folder) if folder else []) | set(prompt_names()))
    raise ValueError(f"unknown prompt '{name}'; known prompts: {', '.join(known)}")
