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

from scripts.catalog import release
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
    added = release.read_state()
    if added:  # what the running proxy's router holds on top of that file; comments, so the output stays one YAML document
        sys.stdout.write(f"# Added by the running proxy for Claude ids config.yaml does not list ({release.state_file()};\n"
                         "# `make update-models` writes them into config.yaml):\n")
        lines = [release.describe(item) for item in added]
        lines += effective_config.to_yaml(effective_config.masked(release.as_config(added))).splitlines()
        sys.stdout.write("".join(f"#   {line}\n" for line in lines))
    return 0


main = entry_point(__name__, _body)
