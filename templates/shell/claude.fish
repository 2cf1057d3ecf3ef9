# Claude Code through the local LiteLLM proxy (claude-gateway in @PROJECT_LABEL@).
# `make toggle-claude` switches proxy/direct for new shells; `make remove-claude`
# takes this block out. No secret is stored here: the proxy key is read from the
# project's .env each time a shell starts.
set -g __claude_gateway_env_file @ENV_FILE@
set -g __claude_gateway_url @PROXY_URL@
set -g __claude_gateway_mode_file @MODE_FILE@
set -g __claude_gateway_project @PROJECT_DIR@

# Prints LITELLM_MASTER_KEY from .env, parsed the way the toolkit parses it
# (the file is never sourced: nothing in it is executed).
function __claude_gateway_read_key
    test -r $__claude_gateway_env_file; or return 1
    set -l key
    while read -l line
        set -l found (string match -r '^\x{feff}?\s*(?:export\s+)?LITELLM_MASTER_KEY\s*=\s*(.*?)\s*$' -- $line); or continue
        set -l value $found[2]
        set -l quoted (string match -r '^(["\'])(.*)\1$' -- $value)
        if set -q quoted[3]
            set key $quoted[3]
        else
            set key (string replace -r '\s+#.*' '' -- $value)
        end
    end <$__claude_gateway_env_file
    test -n "$key"; and printf '%s\n' $key
end

function __claude_gateway_apply
    set -l mode proxy
    test -r $__claude_gateway_mode_file; and read -l line <$__claude_gateway_mode_file; and set mode (string trim -- $line)
    if test "$mode" = direct
        # Undo what a proxy-mode parent shell exported; leave any other setup alone.
        if test "$ANTHROPIC_BASE_URL" = "$__claude_gateway_url"
            set -e ANTHROPIC_BASE_URL
            set -e ANTHROPIC_AUTH_TOKEN
        end
    else if set -l key (__claude_gateway_read_key)
        set -gx ANTHROPIC_BASE_URL $__claude_gateway_url
        set -gx ANTHROPIC_AUTH_TOKEN $key
        set -q ANTHROPIC_DEFAULT_HAIKU_MODEL; or set -gx ANTHROPIC_DEFAULT_HAIKU_MODEL @HAIKU_MODEL@
    else if status is-interactive
        echo "claude-gateway: no LITELLM_MASTER_KEY in $__claude_gateway_env_file (claude goes direct):" \
            "run `make generate-key` there" >&2
    end
end

# Starts the proxy when it does not answer, then runs claude through it
# (whatever toggle-claude says), with the same arguments.
function claude-proxy --description 'Start the claude-gateway proxy if needed, then run claude through it'
    if not begin; command -q curl; and curl -fsS -m 2 -o /dev/null $__claude_gateway_url/health/liveliness 2>/dev/null; end
        env GATEWAY_ENV_FILE=$__claude_gateway_env_file make -C $__claude_gateway_project --no-print-directory up >&2; or return
    end
    set -l key (__claude_gateway_read_key)
    if test -z "$key"
        echo "claude-proxy: no LITELLM_MASTER_KEY in $__claude_gateway_env_file: run `make generate-key`" >&2
        return 1
    end
    set -q ANTHROPIC_DEFAULT_HAIKU_MODEL; and set -l haiku $ANTHROPIC_DEFAULT_HAIKU_MODEL; or set -l haiku @HAIKU_MODEL@
    env ANTHROPIC_BASE_URL=$__claude_gateway_url ANTHROPIC_AUTH_TOKEN=$key ANTHROPIC_DEFAULT_HAIKU_MODEL=$haiku claude $argv
end

__claude_gateway_apply
