"""The end-to-end stack for tests: see scripts/sandbox.py."""
from scripts.sandbox import (API_KEY, AWS_ACCESS_KEY, AWS_SECRET_KEY, MASTER_KEY, OAUTH_TOKEN,  # noqa: F401
                             Simulators, Stack, start_simulators, start_stack)
