"""Mix recipes: the YAML that says what goes into a tokenized pretraining or midtraining mix.

A recipe is a small typed tree: groups hold `sources` whose `weight`s sum to 1 at every level,
leaves read Parquet shards of earlier runs (`glob`, or `run` + optional `stage`: the run's last
stage by default) with an optional `filter` and a repetition cap `max_epochs`. Relative paths
are taken from `--root`, else the recipe's `root`, else the current folder.
"""
import glob as globlib
import hashlib
import json
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from curate.pipelines.spec import SpecError, _format_errors, read_yaml_mapping

FILTER_COLUMNS = {"quality_score": float, "n_tokens": float, "lang_score": float, "lang": str, "source": str}
FILTER_RE = re.compile(r"^\s*(\w+)\s*(>=|<=|==|!=|>|<)\s*(.+?)\s*$")
WEIGHT_TOLERANCE = 1e-6


class RecipeError(SpecError):
    """A recipe a user must fix."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def parse_filter(expr: str) -> tuple[str, str, float | str]:
    """`quality_score >= 0.5` -> ("quality_score", ">=", 0.5); errors name the allowed columns."""
    m = FILTER_RE.match(expr)
    if not m or m.group(1) not in FILTER_COLUMNS:
        raise ValueError(f"filter '{expr}' must look like `COLUMN OP VALUE` with COLUMN one of "
                         f"{', '.join(FILTER_COLUMNS)} and OP one of >= > <= < == !=")
    column, op, raw = m.groups()
    if FILTER_COLUMNS[column] is str:
        return column, op, raw.strip("'\"")
    try:
        return column, op, float(raw)
    except ValueError:
        raise ValueError(f"filter '{expr}': {column} is compared with a number, not '{raw}'") from None


class SourceNode(Strict):
    """A group (has `sources`) or a leaf (has `glob` or `run`)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="Short name; a leaf is known as group/leaf")
    weight: float = Field(gt=0, le=1, description="Share of the parent's tokens; siblings sum to 1")
    sources: list["SourceNode"] | None = Field(None, description="Children of a group")
    glob: str | list[str] | None = Field(None, description="Parquet shard glob(s) of a leaf, "
                                         "e.g. web/quality/part-*.parquet")
    run: str | None = Field(None, description="Run folder of a leaf (reads its last stage unless `stage` is set)")
    stage: str | None = Field(None, description="Stage folder inside `run`")
    filter: list[str] | str = Field(default_factory=list,
                                    description="Row filters, all must hold: `quality_score >= 0.5`, "
                              "`n_tokens >= 512`, `lang == en`")
    max_epochs: float = Field(1.0, gt=0, description="Repetition cap: at most this many passes over the leaf")

    @field_validator("filter", mode="before")
    @classmethod
    def _one_filter(cls, v):
        return [v] if isinstance(v, str) else v

    @field_validator("filter")
    @classmethod
    def _check_filters(cls, v):
        v = [v] if isinstance(v, str) else v
        for expr in v:
            parse_filter(expr)
        return v

    @model_validator(mode="after")
    def _group_or_leaf(self):
        is_group = self.sources is not None
        is_leaf = self.glob is not None or self.run is not None
        if is_group == is_leaf:
            raise ValueError("a source is either a group (`sources`) or a leaf (`glob` or `run`), not both or neither")
        if self.glob is not None and self.run is not None:
            raise ValueError("a leaf reads `glob` or `run`, not both")
        if is_group and (self.filter or self.stage):
            raise ValueError("`filter` and `stage` belong on leaves")
        return self


class MidtrainOptions(Strict):
    long_min_tokens: int | None = Field(None, ge=1, description="Documents this long are chosen first within a leaf "
                                        "(default: seq_len // 2)")
    long_docs: Literal["split", "truncate"] = Field("split", description="Documents longer than a window: split "
                                                    "into window-sized pieces, or cut (counted as truncation waste)")
    open_windows: int = Field(64, ge=1, description="Windows kept open while packing (first fit)")


class MixRecipe(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    phase: Literal["pretrain", "midtrain"]
    tokenizer: str = Field("gemma3-270m", description="`gemma3-270m` (offline), a tokenizer.json path, or a hub name")
    seq_len: int = Field(2048, ge=8, description="Training sequence length; midtrain packs windows of "
                         "seq_len + 1 tokens")
    total_tokens: int = Field(gt=0, description="Tokens in the mix (documents incl. EOS, padding excluded)")
    seed: int = 0
    formats: list[Literal["megatron", "datatrove"]] = Field(default_factory=lambda: ["megatron", "datatrove"],
                                                            min_length=1)
    root: str | None = Field(None, description="Folder that relative globs/runs start from "
                             "(relative to the recipe file)")
    midtrain: MidtrainOptions = Field(default_factory=MidtrainOptions, description="Packing options (phase midtrain)")
    sources: list[SourceNode] = Field(min_length=1)

    def hash(self) -> str:
        return hashlib.sha256(json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


def weight_errors(nodes: list[SourceNode], path: str = "sources") -> list[str]:
    """Weights of siblings must sum to 1 at every level; the message names the key path."""
    errors = []
    total = sum(n.weight for n in nodes)
    if abs(total - 1) > WEIGHT_TOLERANCE:
        parts = ", ".join(f"{n.name}={n.weight:g}" for n in nodes)
        errors.append(f"{path}: weights sum to {total:g}, they must sum to 1 ({parts})")
    names = [n.name for n in nodes]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        errors.append(f"{path}: two sources are named '{dup}'")
    for i, n in enumerate(nodes):
        if n.sources is not None:
            errors += weight_errors(n.sources, f"{path}.{i}.sources")
    return errors


def load_recipe(path: str | Path) -> MixRecipe:
    path = Path(path)
    data = read_yaml_mapping(path, RecipeError, "recipe", "name, phase, total_tokens and sources")
    try:
        recipe = MixRecipe.model_validate(data)
    except ValidationError as e:
        raise RecipeError(f"{path}: {_format_errors(e, '', MixRecipe)}. "
                          f"See manifests/schema/mix.schema.json for every allowed key.") from None
    errors = weight_errors(recipe.sources)
    if errors:
        raise RecipeError(f"{path}: " + "; ".join(errors))
    return recipe


class Leaf:
    """A leaf of the tree with its effective weight (product of weights on its path) and files."""

    def __init__(self, name: str, node: SourceNode, weight: float, files: list[str]):
        self.name, self.node, self.weight, self.files = name, node, weight, files
        self.filters = [parse_filter(f) for f in node.filter]
        self.max_epochs = node.max_epochs

    def describe(self) -> dict:
        return {"weight": self.weight, "max_epochs": self.max_epochs, "filter": self.node.filter,
                "glob": self.node.glob, "run": self.node.run, "stage": self.node.stage, "files": len(self.files)}


def _run_stage_folder(run: Path, stage: str | None) -> Path:
    if stage:
        return run / stage
    manifest = run / "manifest.json"
    if manifest.exists():
        stages = list(json.loads(manifest.read_text()).get("stages", {}))
        if stages:
            return run / stages[-1]
    return run / "__no_stage__"


def _match(pattern: str) -> list[str]:
    return [p for p in globlib.glob(pattern, recursive=True)
            if "/rejected/" not in p and not Path(p).name.startswith(".tmp-") and Path(p).is_file()]


def resolve_root(recipe: MixRecipe, recipe_path: Path | None, root: str | Path | None) -> Path:
    if root is not None:
        return Path(root)
    if recipe.root is not None:
        base = recipe_path.parent if recipe_path is not None else Path.cwd()
        return base / recipe.root
    return Path.cwd()


def leaves(recipe: MixRecipe, root: Path) -> list[Leaf]:
    """Flatten the tree in recipe order, resolving each leaf's shard files (sorted)."""
    out: list[Leaf] = []

    def walk(nodes, prefix, parent_weight):
        for n in nodes:
            name = f"{prefix}{n.name}"
            w = parent_weight * n.weight
            if n.sources is not None:
                walk(n.sources, name + "/", w)
                continue
            if n.run is not None:
                patterns = [str(_run_stage_folder(root / n.run, n.stage) / "part-*.parquet")]
            else:
                patterns = [n.glob] if isinstance(n.glob, str) else list(n.glob)
                patterns = [p if Path(p).is_absolute() else str(root / p) for p in patterns]
            files = sorted({f for p in patterns for f in _match(p)})
            out.append(Leaf(name, n, w, files))

    walk(recipe.sources, "", 1.0)
    return out


def drop_empty_leaves(recipe: MixRecipe, keep: set[str]) -> MixRecipe:
    """A copy of the recipe without the leaves not in `keep`, sibling weights renormalized (demo use)."""
    def prune(nodes, prefix):
        kept = []
        for n in nodes:
            name = f"{prefix}{n.name}"
            if n.sources is None:
                if name in keep:
                    kept.append(n)
                continue
            children = prune(n.sources, name + "/")
            if children:
                kept.append(n.model_copy(update={"sources": children}))
        total = sum(n.weight for n in kept)
        return [n.model_copy(update={"weight": n.weight / total}) for n in kept]

    return recipe.model_copy(update={"sources": prune(recipe.sources, "")})


def json_schema() -> dict:
    return MixRecipe.model_json_schema()

