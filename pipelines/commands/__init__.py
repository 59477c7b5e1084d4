"""Subcommands of `longitude`, one module each; every module that is a command exposes `command`."""
