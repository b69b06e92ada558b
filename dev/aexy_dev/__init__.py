"""aexy-stream's development and test tooling: never part of a runtime install.

simulator/  a local stand-in for the LLM providers, speaking their wire protocols
broker/     launchers of a local Kafka-protocol broker (Tansu, embedded in a wheel)
demo/       `aexy-stream demo`: the whole pipeline on one machine, no service and no key
commands/   the `aexy-stream` subcommands this package adds (entry point group `aexy_stream.commands`)

The product (gateway, schemas, consumers, producers, aexy_stream) never imports this package;
`tests/test_packaging.py` holds it to that.
"""
