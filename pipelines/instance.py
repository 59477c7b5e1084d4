"""The root's own Dagster instance (`<root>/dagster/`): where CLI and UI runs and materializations are kept."""

from pathlib import Path

import dagster as dg

from schemas.layout import Layout

# Written once per root. Telemetry off: nothing reads the network at run time (README guarantee 5).
# Storage is Dagster's default SQLite under this folder; event logs carry counts and hashes, never values.
_DAGSTER_YAML = """\
telemetry:
  enabled: false
"""


def ensure_dagster_home(layout: Layout) -> Path:
    """Create `<root>/dagster/dagster.yaml` if missing; the folder is what DAGSTER_HOME points at for this root."""
    home = layout.dagster_home
    config = home / "dagster.yaml"
    if not config.exists():
        home.mkdir(parents=True, exist_ok=True)
        aside = config.with_suffix(".yaml.tmp")
        aside.write_text(_DAGSTER_YAML)
        aside.replace(config)  # atomic: a concurrent `longitude ui` never reads half a file
    return home


def root_instance(layout: Layout) -> dg.DagsterInstance:
    """The persistent instance of this root, so `longitude ui` opens with the CLI's runs already in it."""
    return dg.DagsterInstance.from_config(str(ensure_dagster_home(layout)))
