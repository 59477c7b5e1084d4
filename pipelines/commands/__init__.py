"""Subcommands of `longitude`, one module each; every module exposes `command`."""
