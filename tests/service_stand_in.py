"""A recording stand-in for systemctl / launchctl (GATEWAY_SERVICE_MANAGER), shared by the
unit tests of the services and the e2e lifecycle tests."""
import textwrap

STAND_IN = textwrap.dedent("""\
    #!/bin/sh
    # Records each command (one line, words joined by blanks), fails on request.
    echo "$*" >> "$STANDIN_RECORD"
    for word in "$@"; do
        if [ -n "$STANDIN_FAIL" ] && [ "$word" = "$STANDIN_FAIL" ]; then
            echo "Failed to connect to bus: No medium found" >&2
            exit 1
        fi
        if [ "$word" = show ]; then
            echo "$STANDIN_SHOW" | tr ';' '\\n'
        fi
    done
""")
