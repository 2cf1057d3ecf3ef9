"""The Claude Messages adapter of the simulated model (scripts/sim/model_brain.py):
a Messages body (api.anthropic.com, Bedrock invoke, Converse after translation) as an
Ask, and the Answer as Messages content blocks.

Web search server tool shapes follow Anthropic's documentation,
https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/web-search-tool :
a `server_tool_use` block {id "srvtoolu_...", name "web_search", input {query}}, a
`web_search_tool_result` block {tool_use_id, content: [web_search_result {url, title,
encrypted_content, page_age}]}, then text whose `citations` are
web_search_result_location {url, title, encrypted_index, cited_text}; usage counts
server_tool_use.web_search_requests. Streaming sends the result block whole in its
content_block_start and each citation as a `citations_delta`."""
from __future__ import annotations

import base64
import os
from typing import List, Optional

from scripts.sim.brain_reading import document_text, image_description
from scripts.sim.model_brain import Answer, Ask, Turn

INTERLEAVED_BETA = "interleaved-thinking-2025-05-14"


def _source_text(block: dict) -> str:
    """What a document or image block shows."""
    source = block.get("source") or {}
    kind, media = source.get("type"), source.get("media_type", "")
    if block.get("type") == "image":
        return image_description(media, source.get("data", "")) if kind == "base64" else \
            f"an image at {source.get('url', '?')}"
    if kind == "base64":
        return f"a document that says: {document_text(media, source.get('data', ''))}"
    if kind == "text":
        return f"a document that says: {source.get('data', '')}"
    if kind == "content":
        return "a document that says: " + " ".join(_texts(source.get("content") or []))
    return "a document the simulator cannot open"


def _texts(content) -> List[str]:
    """Text of a block list, documents and images described (tool results hold them too)."""
    if isinstance(content, str):
        return [content]
    out = []
    for block in content or []:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            out.append(block.get("text", ""))
        elif kind in ("document", "image"):
            out.append(_source_text(block))
        elif kind == "tool_result":
            out += _texts(block.get("content", ""))
        elif kind == "tool_reference":  # tool search's answer: a deferred tool, now loaded
            out.append(f"the tool {block.get('tool_name', '?')}")
    return out


def _turn(msg: dict) -> Turn:
    content = msg.get("content")
    blocks = content if isinstance(content, list) else [{"type": "text", "text": content or ""}]
    turn = Turn(role=msg.get("role", "user"))
    turn.text = " ".join(b.get("text", "") for b in blocks if b.get("type") == "text")
    turn.results = [" ".join(_texts(b.get("content", ""))) for b in blocks if b.get("type") == "tool_result"]
    turn.calls = [b.get("name", "") for b in blocks if b.get("type") == "tool_use"]
    turn.seen = [_source_text(b) for b in blocks if b.get("type") in ("document", "image")]
    return turn


def _forced(choice: Optional[dict]) -> Optional[str]:
    kind = (choice or {}).get("type")
    return {"any": "", "tool": (choice or {}).get("name")}.get(kind)


def _output_schema(body: dict) -> Optional[dict]:
    """Structured outputs: output_format (beta) or output_config.format, type json_schema."""
    fmt = body.get("output_format") or (body.get("output_config") or {}).get("format")
    return fmt.get("schema") if isinstance(fmt, dict) and fmt.get("type") == "json_schema" else None


def ask_of(body: dict, greeting: str, server_tools: bool) -> Ask:
    tools = body.get("tools") or []
    choice = body.get("tool_choice")
    custom = [{"name": t["name"], "schema": t.get("input_schema") or {}, "description": t.get("description", "")}
              for t in tools if t.get("type", "custom") == "custom"]
    web = server_tools and any(str(t.get("type", "")).startswith("web_search_") for t in tools)
    return Ask(turns=[_turn(m) for m in body["messages"]], greeting=greeting,
               tools=[] if (choice or {}).get("type") == "none" else custom, forced=_forced(choice),
               json_schema=_output_schema(body), web_search=web)


def thinking_allowed(body: dict, betas: List[str]) -> bool:
    """A thinking block opens each assistant turn; after a tool result (the same turn going
    on) only with interleaved thinking: the beta, or adaptive thinking, which interleaves."""
    last = body["messages"][-1].get("content")
    continues = isinstance(last, list) and any(b.get("type") == "tool_result" for b in last)
    return not continues or INTERLEAVED_BETA in betas or body["thinking"].get("type") == "adaptive"


def _token(prefix: str) -> str:
    return prefix + base64.b64encode(os.urandom(12)).decode()


def search_blocks(answer: Answer, new_id) -> List[dict]:
    use_id = new_id("srvtoolu_sim")
    results = [{"type": "web_search_result", "url": p.url, "title": p.title, "page_age": None,
                "encrypted_content": _token("sim-enc-")} for p in answer.pages]
    citations = [{"type": "web_search_result_location", "url": p.url, "title": p.title,
                  "encrypted_index": _token("sim-idx-"), "cited_text": p.snippet} for p in answer.pages]
    return [{"type": "server_tool_use", "id": use_id, "name": "web_search", "input": {"query": answer.search}},
            {"type": "web_search_tool_result", "tool_use_id": use_id, "content": results},
            {"type": "text", "text": answer.text, "citations": citations}]
