"""Short names in YAML -> the class (or module) that implements them, for every kind of plug-in.

One mechanism serves stages, OCR engines, benches and input formats. A name resolves, in order, to:
a built-in entry (`"extract": "curate.stages.extract:HtmlExtractor"`), an entry point of the kind's
group that an installed package declares (`[project.entry-points."curate.stages"]`), or, where the
kind allows it, a target written out in full (`my_pkg.stages:MyFilter`). Targets are imported
lazily, so a spec that uses only light stages never imports heavy extras.
"""
import importlib
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points

from curate.errors import ConfigError


class UnknownName(ConfigError, KeyError):
    """A name no built-in, entry point or import target gives; `str()` lists what is known."""

    def __str__(self):
        return self.args[0]


@cache
def _entry_points(group: str) -> dict[str, str]:
    return {point.name: point.value for point in entry_points(group=group)}


def import_target(target: str):
    """`package.module:Attr` (or `package.module` for a module) -> the object."""
    module, _, attr = target.partition(":")
    obj = importlib.import_module(module)
    for part in filter(None, attr.split(".")):
        obj = getattr(obj, part)
    return obj


@dataclass
class Registry:
    kind: str  # what a name names, for messages: "stage", "OCR engine"...
    group: str  # the entry point group installed packages register in
    builtins: dict[str, str] = field(default_factory=dict)
    by_target: bool = False  # may YAML name `module:Class` directly?

    def entries(self) -> dict[str, str]:
        """name -> import target of every known name (entry points cannot shadow built-ins)."""
        return {**_entry_points(self.group), **self.builtins}

    def names(self) -> list[str]:
        return sorted(self.entries())

    def target(self, name: str) -> str:
        entries = self.entries()
        if name in entries:
            return entries[name]
        if self.by_target and ":" in name:
            return name
        how = f"; or write module:Class, or register it in the '{self.group}' entry point group" \
            if self.by_target else f" (packages add more through the '{self.group}' entry point group)"
        raise UnknownName(f"unknown {self.kind} '{name}'; known: {', '.join(self.names())}{how}")

    def load(self, name: str):
        target = self.target(name)
        try:
            return import_target(target)
        except (ImportError, AttributeError) as e:
            raise UnknownName(f"{self.kind} '{name}' -> {target} cannot be imported: {type(e).__name__}: {e}") from e
