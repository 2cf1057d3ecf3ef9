"""`python -m scripts.in_proxy.config_load CONFIG`: load CONFIG with LiteLLM's own loader,
ProxyConfig.load_config, the way the proxy will, and exit (scripts/gateway/config_check.py
runs it in a child process with the proxy's environment). Exit 0 when LiteLLM loads it;
else exit 1 with one line `GATEWAY-CONFIG-CHECK: <LiteLLM's complaint>` on stderr (an
import failure ends in Python's traceback, whose last line config_check reports)."""
import asyncio
import os
import sys

from scripts.in_proxy.litellm_surface import proxy_server

MARK = "GATEWAY-CONFIG-CHECK:"


def main(config: str) -> None:
    try:
        asyncio.run(proxy_server().proxy_config.load_config(router=None, config_file_path=config))
    except BaseException as exc:  # noqa: BLE001 (whatever LiteLLM raised is the answer: report its first line)
        text = (f"{type(exc).__name__}: {exc}".strip().splitlines() or ["(no message)"])[0]
        print(MARK, text, file=sys.stderr, flush=True)
        os._exit(1)
    sys.stdout.flush()
    os._exit(0)  # LiteLLM may leave threads behind; the answer is in


if __name__ == "__main__":
    main(sys.argv[1])
