"""The Dagster code location: every stage's assets and checks under pipelines/defs/, with local resources."""

import importlib
import pkgutil
import warnings

import dagster as dg

import pipelines.defs
from pipelines.defs.check_groups import group_checks
from pipelines.defs.resources import longitude_resources
from pipelines.executor import longitude_executor


def _stage_modules() -> list:
    # Each stage package pipelines/defs/<stage>/ may hold assets.py and checks.py; discovering them keeps
    # this file unchanged as stages are added. Stage modules must not import torch/spaCy/GX at top level.
    modules = []
    for info in sorted(pkgutil.iter_modules(pipelines.defs.__path__), key=lambda m: m.name):
        if not info.ispkg:
            continue
        for part in ("assets", "checks"):
            name = f"pipelines.defs.{info.name}.{part}"
            try:
                modules.append(importlib.import_module(name))
            except ModuleNotFoundError as err:
                if err.name != name:
                    raise
    return modules


# Per-partition asset checks are a Dagster preview feature; we rely on them deliberately (one check per shard).
warnings.filterwarnings("ignore", category=dg.PreviewWarning)  # type: ignore[attr-defined]
_modules = _stage_modules()

defs = dg.Definitions(
    assets=dg.load_assets_from_modules(_modules),
    asset_checks=group_checks(dg.load_asset_checks_from_modules(_modules)),  # an op per asset's checks
    resources=longitude_resources(),
    executor=longitude_executor,  # runs launched from the UI: in-process unless forking pays
)
