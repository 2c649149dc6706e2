"""Pipeline specs: the YAML a user writes, as pydantic models.

Every stage entry is a one-key mapping `{stage_type: {params}}`; the params are
checked against the stage class's own `Params` model, so a typo is an error that
names the file, the key path and what is allowed.
"""
import difflib
import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from curate.errors import ConfigError
from curate.pipelines.registry import INPUT_FORMATS, STAGES, stage_class
from curate.registry import UnknownName
from curate.stages import folders
from curate.stages.base import is_path_field

NAME = re.compile(r"[A-Za-z0-9_-]+")  # stage folder names: one path part, nothing a shell or path reads


class SpecError(ConfigError):
    """A spec a user must fix; the message says where and how."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InputSpec(Strict):
    path: str = Field(description="Folder or fsspec URL of the input files")
    format: str = Field("html", description=f"Reader: {', '.join(INPUT_FORMATS.builtins)} (or a format a package "
                        "registers in the curate.input_formats entry point group)")
    glob: str | None = Field(None, description="Only files matching this glob (below path)")
    text_key: str = Field("text", description="Column/field with the text (or HTML) for parquet/jsonl")
    id_key: str = Field("id", description="Column/field with the document id for parquet/jsonl")
    source: str | None = Field(None, description="Source label written on every document (default: the spec name)")
    max_bytes: int = Field(20_000_000, description="Larger inputs are rejected as too_large")

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        try:
            INPUT_FORMATS.target(value)
        except UnknownName as e:
            raise ValueError(str(e)) from None
        return value


class ExecutorSpec(Strict):
    type: Literal["local", "ray", "slurm"] = "local"
    tasks: int = Field(1, ge=1, description="Shards of work; each writes part-<rank>.parquet")
    workers: int = Field(1, ge=1, description="Tasks run at once")
    options: dict[str, Any] = Field(default_factory=dict, description="Executor-specific settings")


class AirflowSpec(Strict):
    """How Airflow runs a stage's tasks (`curate dag export`); `curate run` ignores it. Spec level: defaults
    for every stage; a stage's own `airflow:` overrides them key by key."""

    retries: int | None = Field(None, ge=0, description="Tries after the first (DAG default 2); safe: tasks resume")
    retry_delay: float | None = Field(None, ge=0, description="Seconds between tries (DAG default 30)")
    execution_timeout: float | None = Field(None, gt=0, description="Seconds a task may run before it fails")
    pool: str | None = Field(None, description="Airflow pool whose slots the tasks take")
    queue: str | None = Field(None, description="Executor queue the tasks go to (e.g. a Celery queue)")
    poll_interval: float | None = Field(None, gt=0, description="Slurm specs: seconds between squeue polls while "
                                        "a deferred task waits for its job (default 30)")


class StageSpec(Strict):
    type: str
    name: str
    params: Any
    airflow: AirflowSpec | None = None

    def build(self):
        return stage_class(self.type)(self.params)


class PipelineSpec(Strict):
    name: str
    input: InputSpec
    output: str = Field(None, description="Run folder: <output>/<stage>/part-<rank>.parquet (default: runs/<name> "
                        "in the working directory)")
    executor: ExecutorSpec = Field(default_factory=ExecutorSpec)
    airflow: AirflowSpec | None = Field(None, description="Airflow task settings for every stage (curate dag export)")
    keep_intermediate: bool = Field(False, description="Write every stage's kept shards (default: adjacent "
                                    "streaming stages run as one executor run and only the last writes them)")
    stages: list[StageSpec]

    @model_validator(mode="before")
    @classmethod
    def _stages_from_yaml(cls, data):
        if not isinstance(data, dict) or not isinstance(data.get("stages"), list):
            return data
        data = dict(data)
        data["stages"] = [_stage_from_yaml(item, i) for i, item in enumerate(data["stages"])]
        return data

    @model_validator(mode="after")
    def _default_output(self):
        if self.output is None:
            self.output = f"runs/{self.name}"
        return self

    def hash(self) -> str:
        return hashlib.sha256(json.dumps(self.to_yaml_dict(), sort_keys=True).encode()).hexdigest()

    def to_yaml_dict(self) -> dict:
        out = self.model_dump(exclude={"stages", "airflow"})
        if self.airflow:  # only when given, so specs without it keep their hash
            out["airflow"] = self.airflow.model_dump(exclude_none=True)
        out["stages"] = [{s.type: {"name": s.name, **s.params.model_dump(),
                                   **({"airflow": s.airflow.model_dump(exclude_none=True)} if s.airflow else {})}}
                         for s in self.stages]
        return out


def stage_folders(stages: list) -> list[tuple[str, str]]:
    """(folder name, stage type) of each entry of a `stages` list as YAML or manifest.json hold it."""
    out = []
    for item in stages:
        if isinstance(item, str):
            out.append((default_stage_name(item), item))
        elif isinstance(item, dict) and len(item) == 1:
            (stage_type, params), = item.items()
            name = params.get("name", default_stage_name(stage_type)) if isinstance(params, dict) \
                else default_stage_name(stage_type)
            out.append((name, stage_type))
        else:  # malformed: keeps the positions; validating the spec says what is wrong with it
            out.append(("", ""))
    return out


def _stage_from_yaml(item, index: int):
    if isinstance(item, StageSpec):
        return item
    if isinstance(item, str):
        item = {item: {}}
    if not isinstance(item, dict) or len(item) != 1:
        raise ValueError(f"stages.{index}: each stage is a one-key mapping like `- extract: {{}}`")
    (stage_type, params), = item.items()
    params = dict(params or {})
    try:
        cls = stage_class(stage_type)
    except (UnknownName, ConfigError) as e:
        raise ValueError(f"stages.{index}: {e}") from None
    name = params.pop("name", default_stage_name(stage_type))
    airflow = params.pop("airflow", None)  # like `name`: the runner's key, not the stage's parameter
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ValueError(f"stages.{index}.{stage_type}.name: {name!r} is not a folder name: use letters, digits, "
                         "_ and - only")
    if name in folders.RESERVED:
        raise ValueError(f"stages.{index}.{stage_type}.name: {name!r} is a folder every run has "
                         f"({', '.join(sorted(folders.RESERVED))}): name the stage, e.g. `name: {name}_stage`")
    try:
        airflow = None if airflow is None else AirflowSpec.model_validate(airflow)
    except ValidationError as e:
        raise ValueError(_format_errors(e, f"stages.{index}.{stage_type}.airflow", AirflowSpec)) from None
    try:
        return StageSpec(type=stage_type, name=name, params=cls.Params(**params), airflow=airflow)
    except ValidationError as e:
        raise ValueError(_format_errors(e, f"stages.{index}.{stage_type}", cls.Params)) from None


def default_stage_name(stage_type: str) -> str:
    """A stage's folder when the spec names none: its key, or the class name of a `module:Class` key."""
    return stage_type.rpartition(":")[2].rpartition(".")[2] if ":" in stage_type else stage_type


def _model_at(model, loc):
    """The pydantic model that owns the last key of `loc` (None if the path leaves the models)."""
    for part in loc[:-1]:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        annotation = field.annotation if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def _format_errors(error: ValidationError, prefix: str, model=None) -> str:
    lines = []
    for err in error.errors():
        path = ".".join(str(p) for p in (prefix, *err["loc"]) if p != "")
        message = err["msg"].removeprefix("Value error, ")
        owner = _model_at(model, err["loc"]) if model is not None and err["loc"] else None
        hint = ""
        if err["type"] == "extra_forbidden" and owner is not None:
            allowed = list(owner.model_fields)
            close = difflib.get_close_matches(str(err["loc"][-1]), allowed, n=1)
            hint = (f"; did you mean '{close[0]}'?" if close else "") + f" (allowed: {', '.join(allowed)})"
            message = "unknown key"
        lines.append(f"{path}: {message}{hint}" if path else message)
    return "; ".join(lines)


def read_yaml_mapping(path: Path, error: type[Exception], kind: str, keys: str) -> dict:
    """A YAML file that must hold a mapping; `error(message)` names the file and what is wrong."""
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise error(f"{path}: no such {kind} file") from None
    except yaml.YAMLError as e:
        raise error(f"{path}: not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise error(f"{path}: a {kind} is a mapping with {keys}")
    return data


def parse_sets(sets: list[str]) -> dict:
    """`--set KEY=VALUE` items (specs and recipes) to overrides; VALUE is read as YAML (numbers, lists...)."""
    overrides = {}
    for item in sets:
        key, sep, value = item.partition("=")
        if not sep:
            raise SpecError(f"--set takes KEY=VALUE, got '{item}'")
        try:
            overrides[key] = yaml.safe_load(value)
        except yaml.YAMLError as e:
            raise SpecError(f"--set {key}: the value is not valid YAML: {e}") from None
    return overrides


def apply_override(data: dict, dotted: str, value) -> None:
    """Set `a.b.c` in a spec's YAML data. In `stages`, a key picks a stage by position or by name
    (folder name, or type when one stage has it) and goes into its parameters:
    `stages.quality.threshold`, `stages.0.timeout`."""
    keys = dotted.split(".")
    target = data
    for depth, key in enumerate(keys):
        last = depth == len(keys) - 1
        if isinstance(target, list):
            if last:
                raise SpecError(f"--set {dotted}: name a parameter of that stage: {dotted}.PARAMETER=VALUE")
            target = _stage_params(target, key, ".".join(keys[:depth + 1]))
        elif not isinstance(target, dict):
            raise SpecError(f"--set {dotted}: {'.'.join(keys[:depth])} is not a mapping")
        elif last:
            target[key] = value
        else:
            target = target.setdefault(key, {})


def _stage_params(stages: list, key: str, where: str) -> dict:
    """The parameters mapping of the stage `key` names (created when the YAML has none)."""
    folders = stage_folders(stages)
    kinds = [kind for _, kind in folders]
    for index, (name, kind) in enumerate(folders):
        if key in (str(index), name) or (key == kind and kinds.count(kind) == 1):
            if not kind:
                raise SpecError(f"--set {where}: stages.{index} is not a one-key mapping like `- extract: {{}}`")
            if isinstance(stages[index], str):  # `- extract`, no parameters
                stages[index] = {stages[index]: {}}
            params = stages[index][kind]
            if params is None:
                params = stages[index][kind] = {}
            if not isinstance(params, dict):
                raise SpecError(f"--set {where}: the parameters of stages.{index} are not a mapping")
            return params
    raise SpecError(f"--set {where}: no such stage; the spec has {', '.join(name for name, _ in folders) or 'none'} "
                    f"(pick one by position 0-{len(stages) - 1} or by name)")


def _from_file(path, base: Path):
    """A path written in a spec file, made absolute against the file's folder (URLs and absolute paths stay)."""
    if isinstance(path, str) and path and "://" not in path and not Path(path).is_absolute():
        return str(base / path)
    return path


def resolve_file_paths(data: dict, base: Path) -> None:
    """Paths written in a spec file are relative to that file (as a mix recipe's are): input.path, output
    and every stage parameter declared with `path_field`. Paths from the command line (`--input`,
    `--output`, `--set`) are the caller's, relative to the working directory."""
    if isinstance(data.get("input"), dict):
        data["input"]["path"] = _from_file(data["input"].get("path"), base)
    if "output" in data:
        data["output"] = _from_file(data["output"], base)
    for (_, kind), item in zip(stage_folders(data.get("stages") or []), data.get("stages") or []):
        params = item.get(kind) if isinstance(item, dict) else None
        if not isinstance(params, dict) or kind not in STAGES.names() and ":" not in kind:
            continue
        try:
            fields = stage_class(kind).Params.model_fields
        except (UnknownName, ConfigError, ImportError):
            continue  # validating the spec reports it
        for key, value in params.items():
            if key in fields and is_path_field(fields[key]):
                params[key] = [_from_file(v, base) for v in value] if isinstance(value, list) else \
                    _from_file(value, base)


def load_spec(path: str | Path, overrides: dict | None = None) -> PipelineSpec:
    """Load and check a spec file; `overrides` replace keys (e.g. input.path) as `--set` does.

    Relative paths in the file are relative to the file; in `overrides`, to the working directory."""
    path = Path(path)
    data = read_yaml_mapping(path, SpecError, "spec", "name, input, output and stages")
    resolve_file_paths(data, path.resolve().parent)
    for dotted, value in (overrides or {}).items():
        apply_override(data, dotted, value)
    try:
        return PipelineSpec.model_validate(data)
    except ValidationError as e:
        raise SpecError(f"{path}: {_format_errors(e, '', PipelineSpec)}. "
                        f"See manifests/schema/pipeline.schema.json for every allowed key.") from None


def json_schema() -> dict:
    """JSON Schema for editors: stages as a list of one-key mappings, each with its own params."""
    schema = PipelineSpec.model_json_schema()
    stage_options = []
    for name in sorted(STAGES.builtins):  # the shipped stages only: the file must not depend on what is installed
        params = stage_class(name).Params.model_json_schema()
        schema.setdefault("$defs", {}).update(params.pop("$defs", {}))
        params.setdefault("properties", {})["name"] = {"type": "string", "description": "Folder name of this stage"}
        params["properties"]["airflow"] = {"$ref": "#/$defs/AirflowSpec",
                                           "description": "This stage's Airflow task settings (over the spec's)"}
        stage_options.append({"type": "object", "properties": {name: params}, "required": [name],
                              "additionalProperties": False})
    schema["properties"]["stages"] = {"type": "array", "items": {"anyOf": stage_options}}
    schema["$defs"].pop("StageSpec", None)
    return schema
