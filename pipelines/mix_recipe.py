"""Mix recipes: the YAML that says what goes into a tokenized pretraining or midtraining mix.

A recipe is a small typed tree: groups hold `sources` whose `weight`s sum to 1 at every level,
leaves read Parquet shards of earlier runs (`glob`, or `run` + optional `stage`: the run's last
stage by default) with an optional `filter` and a repetition cap `max_epochs`. Relative paths
are taken from `--root`, else the recipe's `root`, else the current folder.

Midtraining adds, per leaf, `buckets` (document-length ranges with a share each: the leaf becomes
one leaf per bucket, `<leaf>/len_32k+`) and `compose` (how its documents sit next to each other
in a window: shuffled, chained by similarity, or in source order).
"""
import glob as globlib
import hashlib
import json
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from curate.pipelines.spec import SpecError, _format_errors, read_yaml_mapping
from curate.stages import folders

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


BOUND_RE = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)\s*\*\s*)?seq_len\s*(?:/\s*(\d+(?:\.\d+)?))?\s*$")
GROUP_BY_RE = re.compile(r"^(domain|source|metadata\.[A-Za-z0-9_.-]+)$")


def resolve_bound(value: int | str | None, seq_len: int) -> int | None:
    """A bucket bound in tokens: an int, or `seq_len`, `0.5*seq_len`, `seq_len/8` (scales with the window)."""
    if value is None or isinstance(value, int):
        return value
    m = BOUND_RE.match(value)
    if not m:
        raise ValueError(f"bucket bound '{value}' must be a token count or look like `seq_len`, `0.5*seq_len`, "
                         f"`seq_len/8`")
    return int(round(float(m.group(1) or 1) * seq_len / float(m.group(2) or 1)))


def _tokens_label(n: int) -> str:
    return f"{n // 1024}k" if n >= 1024 and n % 1024 == 0 else str(n)


class LengthBucket(Strict):
    """A document-length range of a leaf and the share of the leaf's tokens it gives."""

    name: str | None = Field(None, pattern=r"^[A-Za-z0-9_.+-]+$",
                             description="Default: len_<lo>-<hi> or len_<lo>+ from the bounds")
    n_tokens: list[int | str | None] = Field(min_length=2, max_length=2,
                                             description="[lo, hi): lo <= n_tokens < hi; null is open; a bound "
                                             "is a token count or relative to the window (`0.5*seq_len`)")
    share: float = Field(gt=0, le=1, description="Share of the leaf's tokens; a leaf's buckets sum to 1")

    @field_validator("n_tokens")
    @classmethod
    def _check_bounds(cls, v):
        for b in v:
            if isinstance(b, int) and b < 0:
                raise ValueError("bucket bounds are >= 0")
            resolve_bound(b, 1)
        if v[0] is None and v[1] is None:
            raise ValueError("a bucket needs at least one bound")
        return v

    def bounds(self, seq_len: int) -> tuple[int, int | None]:
        lo, hi = (resolve_bound(b, seq_len) for b in self.n_tokens)
        return lo or 0, hi

    def label(self, seq_len: int) -> str:
        lo, hi = self.bounds(seq_len)
        return self.name or (f"len_{_tokens_label(lo)}+" if hi is None else
                             f"len_{_tokens_label(lo)}-{_tokens_label(hi)}")


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
    buckets: list[LengthBucket] | None = Field(None, min_length=1, description="Document-length buckets of a leaf, "
                                               "each with a share of its tokens (each becomes a leaf)")
    compose: Literal["shuffle", "related", "same_source"] = Field(
        "shuffle", description="midtrain: how the leaf's documents fill a window: `shuffle` (best fit among all), "
        "`related` (chained by TF-IDF similarity, In-Context Pretraining), `same_source` (one `group_by` "
        "group after another, in shard order)")
    group_by: str = Field("domain", description="`compose: same_source` groups by `domain` (URL host, else the "
                          "source column), `source`, or `metadata.KEY`")

    @field_validator("group_by")
    @classmethod
    def _check_group_by(cls, v):
        if not GROUP_BY_RE.match(v):
            raise ValueError(f"group_by '{v}' must be `domain`, `source` or `metadata.KEY`")
        return v

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
        if is_group and (self.filter or self.stage or self.buckets or self.compose != "shuffle"):
            raise ValueError("`filter`, `stage`, `buckets` and `compose` belong on leaves")
        return self


class MidtrainOptions(Strict):
    long_min_tokens: int | None = Field(None, ge=1, description="Documents this long are chosen first within a leaf "
                                        "(default: seq_len // 2)")
    long_docs: Literal["split", "truncate"] = Field("split", description="Documents longer than a window: split "
                                                    "into window-sized pieces, or cut (counted as truncation waste)")
    packing: Literal["best_fit", "first_fit"] = Field(
        "best_fit", description="`best_fit`: best-fit decreasing over the whole mix (Ding et al. 2024); "
        "`first_fit`: the earlier streaming packer, in shuffled order into `open_windows` open windows")
    open_windows: int = Field(64, ge=1, description="Windows kept open while packing (first_fit)")
    lookahead: int = Field(16, ge=0, description="`compose: related`: documents a chain looks ahead for one "
                           "that fills the rest of a window")


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

    @model_validator(mode="after")
    def _leaf_options(self):
        """compose needs best-fit midtrain packing; bucket ranges must be non-empty and their names distinct."""
        def walk(nodes, path):
            for i, n in enumerate(nodes):
                where = f"{path}.{i}"
                if n.sources is not None:
                    yield from walk(n.sources, f"{where}.sources")
                elif n.compose != "shuffle" and (self.phase != "midtrain" or self.midtrain.packing != "best_fit"):
                    yield f"{where}.compose: `{n.compose}` needs phase midtrain with packing best_fit"
                for j, b in enumerate(n.buckets or []):
                    lo, hi = b.bounds(self.seq_len)
                    if hi is not None and hi <= lo:
                        yield f"{where}.buckets.{j}: n_tokens [{lo}, {hi}) is empty at seq_len {self.seq_len}"
                labels = [b.label(self.seq_len) for b in n.buckets or []]
                for dup in sorted({x for x in labels if labels.count(x) > 1}):
                    yield f"{where}.buckets: two buckets are named '{dup}' (give them a `name`)"

        errors = list(walk(self.sources, "sources"))
        if errors:
            raise ValueError("; ".join(errors))
        return self

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
        if n.buckets:
            shares = sum(b.share for b in n.buckets)
            if abs(shares - 1) > WEIGHT_TOLERANCE:
                errors.append(f"{path}.{i}.buckets: shares sum to {shares:g}, they must sum to 1")
    return errors


def set_key(data: dict, dotted: str, value) -> None:
    """`--set a.b.c=VALUE` on a recipe's YAML data; a number picks a list item (`sources.0.weight`)."""
    *path, last = dotted.split(".")
    target = data
    for key in path:
        if isinstance(target, list) and key.isdigit() and int(key) < len(target):
            target = target[int(key)]
        elif isinstance(target, dict):
            target = target.setdefault(key, {})
        else:
            raise RecipeError(f"--set {dotted}: {key} is not a key of a mapping or a list position")
    if isinstance(target, list) and last.isdigit() and int(last) < len(target):
        target[int(last)] = value
    elif isinstance(target, dict):
        target[last] = value
    else:
        raise RecipeError(f"--set {dotted}: {'.'.join(path) or 'the recipe'} is not a mapping")


def load_recipe(path: str | Path, overrides: dict | None = None) -> MixRecipe:
    """Load and check a recipe; `overrides` ({dotted key: value}) as `curate mix ... --set` gives them."""
    path = Path(path)
    data = read_yaml_mapping(path, RecipeError, "recipe", "name, phase, total_tokens and sources")
    for dotted, value in (overrides or {}).items():
        set_key(data, dotted, value)
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
    """A leaf of the tree with its effective weight (product of weights on its path) and files.

    A node with `buckets` gives one Leaf per bucket, its range added to the filters."""

    def __init__(self, name: str, node: SourceNode, weight: float, files: list[str],
                 bucket: tuple[int, int | None] | None = None):
        self.name, self.node, self.weight, self.files, self.bucket = name, node, weight, files, bucket
        self.filters = [parse_filter(f) for f in node.filter]
        if bucket is not None:
            self.filters.append(("n_tokens", ">=", float(bucket[0])))
            if bucket[1] is not None:
                self.filters.append(("n_tokens", "<", float(bucket[1])))
        self.max_epochs = node.max_epochs
        self.compose, self.group_by = node.compose, node.group_by

    def describe(self) -> dict:
        out = {"weight": self.weight, "max_epochs": self.max_epochs, "filter": self.node.filter,
               "glob": self.node.glob, "run": self.node.run, "stage": self.node.stage, "files": len(self.files)}
        if self.bucket is not None:
            out["n_tokens"] = list(self.bucket)
        if self.compose != "shuffle":
            out["compose"] = self.compose
        return out


def _run_stage_folder(run: Path, stage: str | None) -> Path:
    if stage:
        return run / stage
    manifest = run / "manifest.json"
    if manifest.exists():
        stages = list(json.loads(manifest.read_text()).get("stages", {}))
        if stages:
            return run / stages[-1]
    return run / "__no_stage__"


def _in_run_side_tree(path: Path) -> bool:
    """Is this file under a run folder's `rejected/`, `work/` or `logs/` tree (a glob like `run/**` finds them)?"""
    return any(parent.name in folders.RESERVED and (parent.parent / "logs" / "run_spec.json").is_file()
               for parent in path.parents)


def _match(pattern: str) -> list[str]:
    return [p for p in globlib.glob(pattern, recursive=True)
            if not Path(p).name.startswith(".") and Path(p).is_file() and not _in_run_side_tree(Path(p))]


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
            if n.buckets is None:
                out.append(Leaf(name, n, w, files))
            for b in n.buckets or []:
                out.append(Leaf(f"{name}/{b.label(recipe.seq_len)}", n, w * b.share, files, b.bounds(recipe.seq_len)))

    walk(recipe.sources, "", 1.0)
    return out


def drop_empty_leaves(recipe: MixRecipe, keep: set[str]) -> MixRecipe:
    """A copy of the recipe without the leaves not in `keep`, sibling weights renormalized (demo use)."""
    def prune(nodes, prefix):
        kept = []
        for n in nodes:
            name = f"{prefix}{n.name}"
            if n.sources is None and n.buckets:
                buckets = [b for b in n.buckets if f"{name}/{b.label(recipe.seq_len)}" in keep]
                if buckets:
                    total = sum(b.share for b in buckets)
                    kept.append(n.model_copy(update={"buckets": [b.model_copy(update={"share": b.share / total})
                                                                 for b in buckets]}))
                continue
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

