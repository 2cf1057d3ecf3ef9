"""JSON Schema for the simulated model: a value that fits a schema (with the values the
conversation supplies) and the check that a tool input fits its input_schema.

Only the JSON Schema keywords tool schemas use in practice are understood (type, enum,
const, properties, required, items, minItems, minimum, minLength, anyOf/oneOf, default);
https://json-schema.org/draft/2020-12/json-schema-validation defines them."""
from __future__ import annotations

from typing import Callable, List, Optional

FILLER = "sim"
PY_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "array": list,
            "object": dict, "null": type(None)}

# A property's value from the conversation, by name (None: nothing said about it).
Lookup = Callable[[str, dict], Optional[object]]


def _kind(schema: dict) -> Optional[str]:
    kind = schema.get("type")
    if isinstance(kind, list):  # ["string", "null"]: the first non-null type
        kind = next((k for k in kind if k != "null"), None)
    if kind is None and "properties" in schema:
        return "object"
    return kind


def _branch(schema: dict) -> dict:
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            return next((o for o in options if isinstance(o, dict) and o.get("type") != "null"), options[0])
    return schema


def value_for(schema: dict, lookup: Lookup = lambda name, schema: None, name: str = "") -> object:
    """A value valid for `schema`; `lookup` fills properties the conversation names."""
    schema = _branch(schema if isinstance(schema, dict) else {})
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    found = lookup(name, schema) if name else None
    if found is not None and fits(found, schema):
        return found
    if "default" in schema:
        return schema["default"]
    kind = _kind(schema)
    if kind == "object":
        return object_for(schema, lookup)
    if kind == "array":
        item = value_for(schema.get("items") or {"type": "string"}, lookup)
        return [item] * max(1, int(schema.get("minItems") or 1))
    if kind in ("integer", "number"):
        return max(1, int(schema.get("minimum") or 0))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return FILLER.ljust(int(schema.get("minLength") or 0), "m")


def object_for(schema: dict, lookup: Lookup = lambda name, schema: None) -> dict:
    """The required properties (all when none are required), plus optional ones the
    conversation supplies."""
    props = schema.get("properties") or {}
    required = schema.get("required") or list(props)
    out = {}
    for name, sub in props.items():
        if name in required:
            out[name] = value_for(sub, lookup, name)
        else:
            found = lookup(name, sub if isinstance(sub, dict) else {})
            if found is not None and fits(found, sub):
                out[name] = found
    return out


def fits(value: object, schema: dict) -> bool:
    return not problems(value, schema)


def problems(value: object, schema: dict, where: str = "input") -> List[str]:
    """What makes `value` invalid for `schema` (required properties, types, enums)."""
    schema = _branch(schema if isinstance(schema, dict) else {})
    if schema.get("enum") and value not in schema["enum"]:
        return [f"{where}: not one of {schema['enum']}"]
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if kind else []
    if kinds and not any(_is(value, k) for k in kinds):
        return [f"{where}: expected {'/'.join(kinds)}"]
    out: List[str] = []
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        out += [f"{where}.{name}: required" for name in schema.get("required") or [] if name not in value]
        for name, item in value.items():
            if name in props:
                out += problems(item, props[name], f"{where}.{name}")
            elif schema.get("additionalProperties") is False:
                out.append(f"{where}.{name}: not allowed")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            out += problems(item, schema["items"], f"{where}[{i}]")
    return out


def _is(value: object, kind: str) -> bool:
    if kind in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, PY_TYPES.get(kind, object))
