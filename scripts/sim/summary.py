"""What the request log keeps of a Messages request body: the parameters and shapes a
client's format translation decides (tests check how their fields arrived), small enough
for MAX_RECORDS records, never whole conversations."""
from typing import Any, Dict, List

PARAMS = ("max_tokens", "temperature", "top_p", "top_k", "stop_sequences", "tool_choice", "output_format")
SYSTEM_CHARS = 200


def request_summary(body: Dict[str, Any]) -> Dict[str, Any]:
    summary = {k: body[k] for k in PARAMS if k in body}
    system = body.get("system")
    if isinstance(system, list):
        system = " ".join(b.get("text", "") for b in system if isinstance(b, dict))
    if isinstance(system, str):
        summary["system"] = system[:SYSTEM_CHARS]
    summary["tools"] = [t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)]
    summary["messages"] = [f"{m.get('role')}:{'+'.join(_block_kinds(m.get('content')))}"
                           for m in body.get("messages") or [] if isinstance(m, dict)]
    return summary


def _block_kinds(content: Any) -> List[str]:
    """text, image/png (an image by its media type), tool_use, tool_result, ..."""
    if isinstance(content, str):
        return ["text"]
    kinds = []
    for block in content if isinstance(content, list) else []:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "image":
            kind = (block.get("source") or {}).get("media_type") or "image"
        kinds.append(str(kind))
    return kinds
