# Claude Code through the local LiteLLM proxy (claude-gateway in @PROJECT_LABEL@).
# `make toggle-claude` switches proxy/direct for new shells; `make remove-claude`
# takes this block out. No secret is stored here: the proxy key is read from the
# project's .env each time a shell starts.
__claude_gateway_env_file=@ENV_FILE@
__claude_gateway_url=@PROXY_URL@
__claude_gateway_mode_file=@MODE_FILE@
__claude_gateway_project=@PROJECT_DIR@

# Sets __claude_gateway_key from LITELLM_MASTER_KEY in .env, parsed the way the
# toolkit parses it (the file is never sourced: nothing in it is executed).
__claude_gateway_read_key() {
  local line rest value
  __claude_gateway_key=
  [ -r "$__claude_gateway_env_file" ] || return 1
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line#$'\xef\xbb\xbf'}  # the BOM some editors put before the first line
    line=${line#"${line%%[![:space:]]*}"}
    case $line in export[[:space:]]*) line=${line#export}; line=${line#"${line%%[![:space:]]*}"} ;; esac
    rest=${line#LITELLM_MASTER_KEY}
    [ "$rest" != "$line" ] || continue
    rest=${rest#"${rest%%[![:space:]]*}"}
    case $rest in \=*) ;; *) continue ;; esac
    value=${rest#=}
    value=${value#"${value%%[![:space:]]*}"}
    value=${value%"${value##*[![:space:]]}"}
    case $value in
      \"*\"|\'*\') value=${value#?}; value=${value%?} ;;
      *) value=${value%%[[:space:]]\#*}; value=${value%"${value##*[![:space:]]}"} ;;
    esac
    __claude_gateway_key=$value
  done < "$__claude_gateway_env_file"
  [ -n "$__claude_gateway_key" ]
}

__claude_gateway_apply() {
  local mode=proxy
  [ -r "$__claude_gateway_mode_file" ] && read -r mode < "$__claude_gateway_mode_file"
  if [ "$mode" = direct ]; then
    # Undo what a proxy-mode parent shell exported; leave any other setup alone.
    if [ "${ANTHROPIC_BASE_URL-}" = "$__claude_gateway_url" ]; then
      unset ANTHROPIC_BASE_URL ANTHROPIC_AUTH_TOKEN
    fi
  elif __claude_gateway_read_key; then
    export ANTHROPIC_BASE_URL="$__claude_gateway_url"
    export ANTHROPIC_AUTH_TOKEN="$__claude_gateway_key"
    export ANTHROPIC_DEFAULT_HAIKU_MODEL="${ANTHROPIC_DEFAULT_HAIKU_MODEL:-@HAIKU_MODEL@}"
  elif [[ $- == *i* ]]; then
    echo "claude-gateway: no LITELLM_MASTER_KEY in $__claude_gateway_env_file (claude goes direct):" \
      "run \`make generate-key\` there" >&2
  fi
  __claude_gateway_key=
}

# Starts the proxy when it does not answer, then runs claude through it
# (whatever toggle-claude says), with the same arguments.
claude-proxy() {
  if ! { command -v curl >/dev/null && curl -fsS -m 2 -o /dev/null "$__claude_gateway_url/health/liveliness"; } 2>/dev/null; then
    GATEWAY_ENV_FILE="$__claude_gateway_env_file" make -C "$__claude_gateway_project" --no-print-directory up >&2 || return
  fi
  local key=
  __claude_gateway_read_key && key=$__claude_gateway_key
  __claude_gateway_key=
  [ -n "$key" ] || { echo "claude-proxy: no LITELLM_MASTER_KEY in $__claude_gateway_env_file: run \`make generate-key\`" >&2; return 1; }
  ANTHROPIC_BASE_URL="$__claude_gateway_url" ANTHROPIC_AUTH_TOKEN="$key" \
    ANTHROPIC_DEFAULT_HAIKU_MODEL="${ANTHROPIC_DEFAULT_HAIKU_MODEL:-@HAIKU_MODEL@}" command claude "$@"
}

__claude_gateway_apply
