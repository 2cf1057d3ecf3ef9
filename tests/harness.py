"""The end-to-end stack for tests: see scripts/sandbox.py."""
from scripts.sim.sandbox import (  # noqa: F401
                             API_KEY,
                             AWS_ACCESS_KEY,
                             AWS_SECRET_KEY,
                             MASTER_KEY,
                             OAUTH_TOKEN,
                             Simulators,
                             Stack,
                             start_simulators,
                             start_stack,
)
