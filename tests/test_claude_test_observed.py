"""`make test-claude` concludes only what it read: a whole stream with text, and
Claude Code's requests counted by the proxy itself (recorded LiteLLM 1.106.2 text)."""
import pytest

from scripts.claude_test import claude_code_requests, streamed_text
from scripts.core.errors import ToolkitError

# GET /metrics/ of a proxy that served curl, test-claude's own request and one `claude -p`.
METRICS = """\
# HELP litellm_proxy_total_requests_metric_total Total number of requests made to the proxy server
# TYPE litellm_proxy_total_requests_metric_total counter
litellm_proxy_total_requests_metric_total{api_provider="anthropic",requested_model="claude-haiku",\
route="/v1/messages",status_code="200",user_agent="curl/7.88.1"} 2.0
litellm_proxy_total_requests_metric_total{api_provider="anthropic",requested_model="claude-haiku-4-5",\
route="/v1/messages",status_code="200",user_agent="claude-gateway test-claude"} 1.0
litellm_proxy_total_requests_metric_total{api_provider="anthropic",requested_model="claude-sonnet-4-5-20250929",\
route="/v1/messages",status_code="200",user_agent="claude-cli/2.1.197 (external, sdk-cli)"} 1.0
litellm_proxy_total_requests_metric_total{api_provider="anthropic",requested_model="claude-haiku-4-5",\
route="/v1/messages",status_code="200",user_agent="claude-cli/2.1.197 (external, cli)"} 2.0
litellm_deployment_success_responses_total{api_provider="anthropic",user_agent="claude-cli/2.1.197 (external, cli)"} 3.0
"""
STREAM = (b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1"}}\n\n'
          b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
          b'"delta":{"type":"text_delta","text":"po"}}\n\n'
          b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
          b'"delta":{"type":"text_delta","text":"ng"}}\n\n')
STOP = b'event: message_stop\ndata: {"type":"message_stop"}\n\n'


def test_only_claude_codes_requests_are_counted():
    assert claude_code_requests(METRICS) == 3.0
    assert claude_code_requests("") == 0.0


def test_a_whole_stream_gives_its_text():
    assert streamed_text(STREAM + STOP) == "pong"


@pytest.mark.parametrize("body, reason", [
    (STREAM, "cut off before message_stop"),
    (STREAM.split(b"event: content_block_delta")[0] + STOP, "completed without any text"),
    (STREAM + b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error"}}\n\n',
     "ended with an error: {'type': 'overloaded_error'}"),
])
def test_a_stream_that_did_not_answer_is_an_error(body, reason):
    with pytest.raises(ToolkitError, match=reason):
        streamed_text(body)
