"""Settings: root, shards, splits and the secret come from arguments or LONGITUDE_*; no secret, no run."""

from pathlib import Path

import pytest

from pipelines.settings import SettingsError, parse_splits, settings_from_env
from tests.conftest import TEST_SECRET

STRONG = TEST_SECRET.decode()


def test_a_run_without_a_secret_stops_with_a_clear_message(tmp_path: Path):
    with pytest.raises(SettingsError, match="LONGITUDE_SECRET is not set"):
        settings_from_env(tmp_path, environ={})


def test_demo_mode_makes_a_secret_once_and_reuses_it(tmp_path: Path):
    first = settings_from_env(tmp_path, demo=True, environ={})
    again = settings_from_env(tmp_path, environ={})  # a demo root keeps working without the env var
    assert first.demo and again.demo and first.secret == again.secret
    assert (tmp_path / "demo-secret.txt").stat().st_mode & 0o077 == 0


def test_environment_and_arguments(tmp_path: Path):
    env = {"LONGITUDE_SECRET": STRONG, "LONGITUDE_ROOT": str(tmp_path), "LONGITUDE_SHARDS": "8"}
    s = settings_from_env(environ=env)
    assert (s.root, s.n_shards, s.split_fractions, s.demo) == (tmp_path.resolve(), 8, (0.8, 0.1, 0.1), False)
    s = settings_from_env(tmp_path / "other", n_shards=2, splits="70/15/15", environ=env)
    assert (s.root.name, s.n_shards, s.split_fractions) == ("other", 2, (0.7, 0.15, 0.15))


def test_bad_settings_are_refused():
    assert parse_splits("8,1,1") == (0.8, 0.1, 0.1)
    with pytest.raises(SettingsError):
        parse_splits("80/20")
    with pytest.raises(SettingsError, match="at least 16"):
        settings_from_env("/tmp/x", environ={"LONGITUDE_SECRET": "short"})
    with pytest.raises(SettingsError, match="shard count"):
        settings_from_env("/tmp/x", n_shards=-1, environ={"LONGITUDE_SECRET": STRONG})


def test_a_root_remembers_its_shards_and_splits(tmp_path: Path):
    from pipelines.settings import pin

    env = {"LONGITUDE_SECRET": STRONG}
    pin(settings_from_env(tmp_path, n_shards=3, splits="70/20/10", environ=env))
    again = settings_from_env(tmp_path, environ=env)
    assert (again.n_shards, again.split_fractions) == (3, (0.7, 0.2, 0.1))
    with pytest.raises(SettingsError, match="was built with 3 shards"):
        settings_from_env(tmp_path, n_shards=4, environ=env)


@pytest.mark.parametrize(
    "weak",
    [" " * 16, "a" * 24, "abcdefghijklmnopqrstu", "0123456789012345", "passwordpassword", "qwertyuiopasdfgh"],
)
def test_weak_secrets_are_refused_without_quoting_them(tmp_path: Path, weak: str):
    with pytest.raises(SettingsError, match="too weak") as err:
        settings_from_env(tmp_path, environ={"LONGITUDE_SECRET": weak})
    assert (not weak.strip() or weak not in str(err.value)) and "token_hex" in str(err.value)


def test_a_root_is_bound_to_the_secret_it_was_first_built_with(tmp_path: Path):
    from pipelines.settings import pin, read_pinned

    pin(settings_from_env(tmp_path, environ={"LONGITUDE_SECRET": STRONG}))
    recorded = read_pinned(tmp_path)["secret_fingerprint"]
    assert STRONG not in (tmp_path / "longitude.json").read_text() and recorded.startswith("hmac-sha256:")
    settings_from_env(tmp_path, environ={"LONGITUDE_SECRET": STRONG})  # the same secret: fine
    with pytest.raises(SettingsError, match=r"different LONGITUDE_SECRET.*longitude rekey"):
        settings_from_env(tmp_path, environ={"LONGITUDE_SECRET": "another-secret-98765zyxw"})


def test_the_resource_refuses_another_secret_too(tmp_path: Path):
    from pipelines.defs.resources import LongitudeResource
    from pipelines.settings import pin

    pin(settings_from_env(tmp_path, environ={"LONGITUDE_SECRET": STRONG}))
    assert LongitudeResource(root=str(tmp_path), secret=STRONG).settings().secret == TEST_SECRET
    with pytest.raises(SettingsError, match="different"):
        LongitudeResource(root=str(tmp_path), secret="another-secret-98765zyxw").settings()


def test_a_demo_secret_file_in_a_root_that_demo_did_not_make_is_ignored(tmp_path: Path):
    (tmp_path / "demo-secret.txt").write_text("f0e1d2c3b4a59687f0e1d2c3b4a59687\n")
    with pytest.raises(SettingsError, match="LONGITUDE_SECRET is not set"):
        settings_from_env(tmp_path, environ={})


def test_demo_refuses_a_root_keyed_with_a_real_secret(tmp_path: Path):
    from pipelines.settings import pin

    pin(settings_from_env(tmp_path, environ={"LONGITUDE_SECRET": STRONG}))
    with pytest.raises(SettingsError, match="needs a new root"):
        settings_from_env(tmp_path, demo=True, environ={})
    assert not (tmp_path / "demo-secret.txt").exists()


def test_a_root_built_with_its_demo_secret_keeps_working_as_a_demo_root(tmp_path: Path):
    from pipelines.settings import Settings, pin

    secret = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    (tmp_path / "demo-secret.txt").write_text(secret + "\n")
    pin(Settings(root=tmp_path.resolve(), secret=secret.encode()))  # pinned before roots were marked demo
    s = settings_from_env(tmp_path, environ={})
    assert s.demo and s.secret == secret.encode()


def test_environment_fills_only_what_the_root_has_not_pinned(tmp_path: Path):
    from pipelines.settings import pin, resolve_root_values

    pin(settings_from_env(tmp_path, n_shards=3, splits="70/20/10", environ={"LONGITUDE_SECRET": STRONG}))
    env = {"LONGITUDE_SHARDS": "5", "LONGITUDE_SPLITS": "50/25/25", "LONGITUDE_WORKERS": "2"}
    with pytest.warns(UserWarning) as caught:
        values = resolve_root_values(tmp_path, environ=env)
    said = sorted(str(w.message).split(" asks")[0] for w in caught)
    assert said == ["LONGITUDE_SHARDS", "LONGITUDE_SPLITS"] and "pins 3; the root wins" in str(caught[0].message)
    assert (values.n_shards, values.split_fractions, values.workers) == (3, (0.7, 0.2, 0.1), 2)
    fresh = resolve_root_values(tmp_path / "fresh", environ=env)
    assert (fresh.n_shards, fresh.split_fractions) == (5, (0.5, 0.25, 0.25))


_DEFINITIONS_PROBE = """
import warnings
warnings.simplefilter("ignore")
from pipelines.definitions import defs
import dagster as dg
node = defs.resolve_asset_graph().get(dg.AssetKey("meds_data"))
resource = defs.resources["longitude"]
print(repr((len(node.partitions_def.get_partition_keys()), resource.n_shards, resource.splits)))
"""


def test_the_code_location_uses_the_roots_pinned_shards_not_the_environment(tmp_path: Path):
    """`dagster dev` / `longitude ui` with a stale LONGITUDE_SHARDS must not re-shard an existing root."""
    import os
    import subprocess
    import sys

    from pipelines.settings import pin

    pin(settings_from_env(tmp_path, n_shards=3, environ={"LONGITUDE_SECRET": STRONG}))
    env = {**os.environ, "LONGITUDE_ROOT": str(tmp_path), "LONGITUDE_SHARDS": "5", "LONGITUDE_SECRET": STRONG}
    out = subprocess.run(
        [sys.executable, "-c", _DEFINITIONS_PROBE],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    partitions, resource_shards, splits = eval(out.strip().splitlines()[-1])
    assert (partitions, resource_shards) == (3, 3)
    assert splits == "0.8/0.1/0.1"


def test_the_resource_refuses_a_shard_count_the_root_did_not_pin(tmp_path: Path):
    from pipelines.defs.resources import LongitudeResource
    from pipelines.settings import pin

    pin(settings_from_env(tmp_path, n_shards=3, environ={"LONGITUDE_SECRET": STRONG}))
    assert LongitudeResource(root=str(tmp_path), n_shards=3, secret=STRONG).settings().n_shards == 3
    with pytest.raises(SettingsError, match="was built with 3 shards"):
        LongitudeResource(root=str(tmp_path), n_shards=5, secret=STRONG).settings()
