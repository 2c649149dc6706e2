"""Writes the JSON Schemas that editors use to check our YAML files."""
import json
from pathlib import Path

from curate.pipelines.mix_recipe import json_schema as mix_json_schema
from curate.pipelines.spec import json_schema

SCHEMAS = {"pipeline.schema.json": json_schema}
SCHEMAS["mix.schema.json"] = mix_json_schema


def write_schemas(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in SCHEMAS.items():
        path = folder / name
        path.write_text(json.dumps(make(), indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written
