"""Run the simulated Anthropic and Bedrock APIs (make demo, make bench and the tests
use them; `--help` lists the options, scripts/sim/server.py explains them).

    python -m scripts.simulators --anthropic-port 47801 --bedrock-port 47802
"""
from scripts.core.errors import entry_point
from scripts.sim.server import serve

main = entry_point(__name__, serve)
