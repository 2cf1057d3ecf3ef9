#!/usr/bin/env bash
# Smoke checks against a running proxy: ./test-proxy.sh [health|basic|stream|fallback|formats|all]
#
# Port and master key come from .env (GATEWAY_ENV_FILE moves it). `fallback` uses
# the `fallback-test` model of config.yaml, whose Anthropic deployment points at a
# closed local port, so the answer must come from Bedrock: on a live setup this
# proves the Bedrock side (credentials, region, model access) works.
# CLAUDE_CODE_OAUTH_TOKEN=sk-ant-oat... ./test-proxy.sh fallback sends that token
# as the client's own Anthropic credential (Authorization: Bearer) with the
# master key in x-litellm-api-key, the way a subscription client does.
set -euo pipefail

cd "$(dirname "$0")"
ENV_FILE=${GATEWAY_ENV_FILE:-.env}
MODEL=${MODEL:-claude-haiku}
FAILED=0

die() { echo "error: $*" >&2; exit 2; }
pass() { echo "PASS  $*"; }
fail() { echo "FAIL  $*"; FAILED=1; }

# Read one variable from .env without executing it (no `source`).
env_value() {
  local line
  line=$(grep -E "^[[:space:]]*(export[[:space:]]+)?$1=" "$ENV_FILE" | tail -n 1 || true)
  line=${line#*=}
  line=${line%\"}; line=${line#\"}; line=${line%\'}; line=${line#\'}
  printf '%s' "$line"
}

[ -f "$ENV_FILE" ] || die "no $ENV_FILE: run \`cp .env.template .env\` and fill it in"
command -v curl >/dev/null || die "curl is required: install it with your package manager"
KEY=$(env_value LITELLM_MASTER_KEY)
[ -n "$KEY" ] || die "LITELLM_MASTER_KEY is not set in $ENV_FILE: run \`make generate-key\`"
HOST=$(env_value LITELLM_HOST); HOST=${HOST:-127.0.0.1}
[ "$HOST" = "0.0.0.0" ] && HOST=127.0.0.1
PORT=$(env_value LITELLM_PORT); PORT=${PORT:-47000}
BASE="http://$HOST:$PORT"
BODY=$(mktemp); HEADERS=$(mktemp)
trap 'rm -f "$BODY" "$HEADERS"' EXIT

# post PATH JSON [extra curl args...]: sets STATUS, body in $BODY, headers in $HEADERS
post() {
  local path=$1 data=$2; shift 2
  STATUS=$(curl -sS -o "$BODY" -D "$HEADERS" -w '%{http_code}' --max-time 120 \
    -H "content-type: application/json" -H "anthropic-version: 2023-06-01" "$@" \
    -X POST "$BASE$path" -d "$data") || STATUS=000
}
# The last value of a response header; empty (never a failure) when absent.
header() { { grep -i "^$1:" "$HEADERS" || true; } | tail -n 1 | cut -d' ' -f2- | tr -d '\r'; }
# The first "FIELD": "string" of the body; empty when there is none.
json_string() {
  { grep -o "\"$1\": *\"[^\"]*\"" "$BODY" || true; } | head -n 1 | sed -E 's/^"[^"]*": *"(.*)"$/\1/'
}
excerpt() { head -c 300 "$BODY" | tr '\n' ' '; }

# Every PASS below states only what this run saw: the HTTP status, the deployment
# LiteLLM names in x-litellm-model-name, and the text or events of the answer.
check_health() {
  local reply
  reply=$(curl -s --max-time 5 "$BASE/health/liveliness" || true)
  if [[ "$reply" == *alive* ]]; then pass "liveness: $BASE answers $reply"
  else fail "liveness: no answer from $BASE (is it running? \`make up\`)"; return; fi
  reply=$(curl -s --max-time 5 "$BASE/health/readiness" || true)
  if [[ "$reply" =~ \"status\":\ ?\"(healthy|connected)\" ]]; then pass "readiness: ${BASH_REMATCH[1]}"
  else fail "readiness: $(head -c 300 <<<"${reply:-no answer}") (see \`make logs\`)"; fi
}

# check_answer LABEL FIELD: PASS for HTTP 200 from a named deployment with text in FIELD.
check_answer() {
  local label=$1 field=$2 who text
  who=$(header x-litellm-model-name)
  text=$(json_string "$field")
  if [ "$STATUS" != 200 ]; then fail "$label: HTTP $STATUS $(excerpt)"
  elif [ -z "$who" ]; then fail "$label: HTTP 200 without x-litellm-model-name, so who answered is unknown"
  elif [ -z "$text" ]; then fail "$label: HTTP 200 from $who without a \"$field\" in the answer: $(excerpt)"
  else pass "$label answered by $who: \"${text:0:80}\""; fi
}

check_basic() {
  post /v1/messages "{\"model\":\"$MODEL\",\"max_tokens\":32,\"messages\":[{\"role\":\"user\",\"content\":\"Reply with: pong\"}]}" -H "x-api-key: $KEY"
  check_answer "/v1/messages $MODEL" text
  post /v1/chat/completions "{\"model\":\"$MODEL\",\"max_tokens\":32,\"messages\":[{\"role\":\"user\",\"content\":\"Reply with: pong\"}]}" \
    -H "Authorization: Bearer $KEY"
  check_answer "/v1/chat/completions $MODEL" content
}

check_stream() {
  post /v1/messages "{\"model\":\"$MODEL\",\"max_tokens\":32,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Reply with: pong\"}]}" -H "x-api-key: $KEY"
  local who deltas last
  who=$(header x-litellm-model-name)
  deltas=$( { grep -c '^event: content_block_delta' "$BODY" || true; } )
  last=$( { grep '^event: ' "$BODY" || true; } | tail -n 1 | tr -d '\r')
  if [ "$STATUS" != 200 ]; then fail "/v1/messages stream: HTTP $STATUS $(excerpt)"
  elif grep -q '^event: error' "$BODY"; then
    fail "/v1/messages stream: an error event: $(grep -A1 '^event: error' "$BODY" | tail -n 1 | head -c 300)"
  elif [ "$last" != "event: message_stop" ]; then fail "/v1/messages stream: cut off, last event '${last:-none}'"
  elif [ "$deltas" = 0 ]; then fail "/v1/messages stream: complete but without content: $(excerpt)"
  elif [ -z "$who" ]; then fail "/v1/messages stream: no x-litellm-model-name, so who answered is unknown"
  else pass "/v1/messages stream from $who: $deltas deltas, ends with message_stop"; fi
}

check_fallback() {
  local args
  if [ -n "${CLAUDE_CODE_OAUTH_TOKEN:-}" ]; then
    args=(-H "Authorization: Bearer $CLAUDE_CODE_OAUTH_TOKEN" -H "x-litellm-api-key: Bearer $KEY")
    echo "      (client credential: OAuth token ${CLAUDE_CODE_OAUTH_TOKEN:0:12}..., master key in x-litellm-api-key)"
  else
    args=(-H "x-api-key: $KEY")
  fi
  post /v1/messages '{"model":"fallback-test","max_tokens":32,"messages":[{"role":"user","content":"Reply with: pong"}]}' "${args[@]}"
  local answered text; answered=$(header x-litellm-model-name); text=$(json_string text)
  if [ "$STATUS" = 200 ] && [[ "$answered" == bedrock/* ]] && [ -n "$text" ]; then
    pass "fallback: primary unreachable, answered by $answered: \"${text:0:80}\""
  else fail "fallback: HTTP $STATUS answered by '${answered:-nobody}': $(excerpt)"; fi
}

# The other client formats on the same port: Ollama (/api/*) and Gemini (v1, the
# google-genai default, and v1beta), then the fallback through the Ollama route.
check_formats() {
  local ask='"messages":[{"role":"user","content":"Reply with: pong"}]'
  local gemini='{"contents":[{"role":"user","parts":[{"text":"Reply with: pong"}]}]}'
  if curl -sS --max-time 10 -H "Authorization: Bearer $KEY" "$BASE/api/tags" | grep -q "\"name\":\"$MODEL\""; then
    pass "Ollama /api/tags lists $MODEL"
  else fail "Ollama /api/tags does not list $MODEL"; fi
  post /api/chat "{\"model\":\"$MODEL\",\"stream\":false,$ask}" -H "Authorization: Bearer $KEY"
  if [ "$STATUS" = 200 ] && grep -q '"done":true' "$BODY"; then
    pass "Ollama /api/chat $MODEL answered by $(header x-litellm-model-name)"
  else fail "Ollama /api/chat $MODEL: HTTP $STATUS $(head -c 300 "$BODY")"; fi
  post /api/generate "{\"model\":\"$MODEL\",\"prompt\":\"Reply with: pong\"}" -H "Authorization: Bearer $KEY"
  if [ "$STATUS" = 200 ] && tail -n 1 "$BODY" | grep -q '"done":true' && [ "$(grep -c '"done":false' "$BODY")" -gt 0 ]; then
    pass "Ollama /api/generate streams NDJSON ($(grep -c '"done":false' "$BODY") lines before the last)"
  else fail "Ollama /api/generate stream: HTTP $STATUS $(head -c 300 "$BODY")"; fi
  local version
  for version in v1 v1beta; do
    post "/$version/models/$MODEL:generateContent" "$gemini" -H "x-goog-api-key: $KEY"
    if [ "$STATUS" = 200 ] && grep -q '"candidates"' "$BODY"; then pass "Gemini /$version generateContent $MODEL"
    else fail "Gemini /$version generateContent $MODEL: HTTP $STATUS $(head -c 300 "$BODY")"; fi
  done
  post /api/chat "{\"model\":\"fallback-test\",\"stream\":false,$ask}" -H "Authorization: Bearer $KEY"
  local answered; answered=$(header x-litellm-model-name)
  if [ "$STATUS" = 200 ] && [[ "$answered" == bedrock/* ]]; then
    pass "Ollama /api/chat fallback: primary unreachable, answered by $answered"
  else fail "Ollama /api/chat fallback: HTTP $STATUS answered by '${answered:-nobody}': $(head -c 300 "$BODY")"; fi
}

case "${1:-all}" in
  health) check_health ;;
  basic) check_basic ;;
  stream) check_stream ;;
  fallback) check_fallback ;;
  formats) check_formats ;;
  all) check_health; check_basic; check_stream; check_fallback; check_formats ;;
  *) die "unknown check '$1': use health, basic, stream, fallback, formats or all" ;;
esac

[ "$FAILED" = 0 ] && echo "all checks passed" || { echo "some checks failed" >&2; exit 1; }
