"""A local stand-in for the LLM providers: speaks their wire protocols, costs nothing, fails on demand.

Start one in-process with `running_simulator(SimulatorConfig(protocol="anthropic"))`, or from the
command line with `aexy-stream simulate-provider --protocol anthropic --port 8089`.
"""

from aexy_dev.simulator.config import SimulatorConfig
from aexy_dev.simulator.runner import SimulatorHandle, running_simulator, serve

__all__ = ["SimulatorConfig", "SimulatorHandle", "running_simulator", "serve"]
