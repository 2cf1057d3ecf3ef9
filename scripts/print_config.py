"""`make print-config`: the effective LiteLLM config `make up` runs, as YAML, secrets masked.

It is config.yaml plus the models PROXY_MODEL_KEYS defines and the tiers
CLAUDE_FALLBACK_AFTER_BEDROCK puts after Bedrock (scripts/gateway/effective_config.py).
Nothing is written; `make up` writes the same config (unmasked: it holds only
os.environ/ references) to the state directory and starts LiteLLM on it.

    python -m scripts.print_config        # e.g. `make print-config | grep -A3 fallbacks`
"""
import argparse
import sys
from typing import List

from scripts.core import paths
from scripts.core import settings as settings_mod
from scripts.core.errors import entry_point
from scripts.gateway import effective_config


def _body(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.print_config", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[2:]))
    parser.parse_args(argv)
    config = effective_config.load_and_render(settings_mod.load(validate=False))
    sys.stdout.write(effective_config.header(paths.effective_config_file()))
    sys.stdout.write(effective_config.to_yaml(effective_config.masked(config)))
    return 0


main = entry_point(__name__, _body)
