"""The other stages' assets, found the way the code location finds them, so every asset gets checks."""

import importlib
import pkgutil

import dagster as dg

import pipelines.defs

STAGE = "quality"


def stage_assets() -> list[dg.AssetsDefinition]:
    """AssetsDefinitions of every stage package except this one (pipelines/defs/<stage>/assets.py)."""
    found: list[dg.AssetsDefinition] = []
    for info in sorted(pkgutil.iter_modules(pipelines.defs.__path__), key=lambda m: m.name):
        if not info.ispkg or info.name == STAGE:
            continue
        name = f"pipelines.defs.{info.name}.assets"
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name != name:
                raise
            continue
        for value in vars(module).values():  # as Dagster's loader does: definitions, or lists of them
            items = value if isinstance(value, list) else [value]
            found += [v for v in items if isinstance(v, dg.AssetsDefinition) and v not in found]
    return found


def upstream_keys() -> list[dg.AssetKey]:
    return sorted({key for a in stage_assets() for key in a.keys}, key=lambda k: k.to_user_string())
