"""The JSON Schema of each template version, as files beside the models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from schemas.report import REPORT_MODELS, TEMPLATES, Template

SCHEMA_DIR = Path(__file__).parent


def json_schema(template: Template) -> dict[str, Any]:
    schema = REPORT_MODELS[template].model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"政府信息公开工作年度报告 ({template} template)"
    return schema


def schema_path(template: Template, folder: Path = SCHEMA_DIR) -> Path:
    return folder / f"report-{template}.schema.json"


def write_schemas(folder: Path = SCHEMA_DIR) -> list[Path]:
    paths = []
    for template in TEMPLATES:
        path = schema_path(template, folder)
        path.write_text(json.dumps(json_schema(template), ensure_ascii=False, indent=1) + "\n", "utf-8")
        paths.append(path)
    return paths
