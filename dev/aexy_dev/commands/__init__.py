"""Subcommands added to `aexy-stream` where the development tools are installed.

Each module has `register(subparsers)`, named in `dev/pyproject.toml` under the entry point group
`aexy_stream.commands`, which `aexy_stream.cli.main` loads.
"""
