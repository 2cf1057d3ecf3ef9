"""`make generate-key`: a new LITELLM_MASTER_KEY in .env, other lines untouched."""
import secrets
from typing import List

from scripts.core import envfile, paths
from scripts.core.errors import ToolkitError, entry_point
from scripts.core.settings import mask
from scripts.gateway.process import running_pid


def new_key() -> str:
    # LiteLLM only accepts master keys that start with "sk-"; 51 characters, well
    # over the toolkit's minimum (core/envcheck.py MIN_MASTER_KEY_LENGTH).
    return "sk-" + secrets.token_hex(24)


def _body(argv: List[str]) -> int:
    env_path = paths.env_file()
    if not env_path.exists():
        raise ToolkitError(f"no .env at {env_path}: run `cp .env.template .env` first")
    envfile.read(env_path)  # unreadable or not UTF-8: stop before writing; warns about duplicate lines
    key = new_key()
    written = envfile.set_value(env_path, "LITELLM_MASTER_KEY", key)
    where = f"line {written.line}" + (" (appended)" if written.appended else "")
    if written.ignored:
        others = ", ".join(map(str, written.ignored))
        many = len(written.ignored) > 1
        where += (f", the line in force (line{'s' if many else ''} {others} "
                  f"{'set' if many else 'sets'} it too and {'are' if many else 'is'} ignored)")
    print(f">> new LITELLM_MASTER_KEY {mask(key)} written to {env_path} {where} (mode 0600)")
    if running_pid():
        print(">> the running proxy still uses the old key: run `make restart`")
    print(">> clients configured with the old key need it too (`make update-claude` for Claude Code)")
    return 0


main = entry_point(__name__, _body)
