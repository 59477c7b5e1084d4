"""An asset's checks run as one op (same check names, descriptions, blocking flags and partitions)."""

from collections.abc import Iterator, Sequence

import dagster as dg
from dagster._core.definitions.decorators.op_decorator import DecoratedOpFunction

from quality import reuse

# Each op a run executes costs Dagster a step (context, STEP_START/STEP_SUCCESS events in the instance) and, on
# an engine with a process or pod per step, a Python start and the code location's import: an asset's checks
# share one. Every check still reports its own evaluation, stores its own rows (pipelines.defs.checks_util)
# and can be run alone (the op runs only the selected checks).


class _OneCheck:
    """The grouped op's context as one of its checks sees it: its own spec, everything else the op's."""

    def __init__(self, context: dg.AssetCheckExecutionContext, spec: dg.AssetCheckSpec) -> None:
        self._context, self._spec = context, spec

    @property
    def check_specs(self) -> list[dg.AssetCheckSpec]:
        return [self._spec]

    @property
    def selected_asset_check_keys(self) -> set[dg.AssetCheckKey]:
        return {self._spec.key}

    def __getattr__(self, name: str):
        return getattr(self._context, name)


def _groupable(checks_def: dg.AssetChecksDefinition) -> DecoratedOpFunction | None:
    """The function of a single `@asset_check` that loads no asset as an input (its asset and additional deps are
    order-only, as its spec states them) and has no op settings of its own (config, resources, tags, retries,
    pool), which one op could not keep per check; None for anything else, which keeps its own op."""
    node = checks_def.node_def
    fn = getattr(node, "compute_fn", None)
    loads = [i for i in node.input_defs if not i.dagster_type.is_nothing]
    if len(list(checks_def.check_specs)) != 1 or loads or not isinstance(fn, DecoratedOpFunction):
        return None
    own_settings = checks_def.resource_defs or node.tags or node.retry_policy or getattr(node, "pool", None)
    return None if own_settings or fn.has_config_arg() else fn


def group_checks(checks: Sequence[dg.AssetChecksDefinition]) -> list[dg.AssetChecksDefinition]:
    """The checks with those of one asset (and one partitioning) that take no inputs merged into one op each;
    an asset with a single such check keeps it as it is. Order: as given, a group where its first check was."""
    groups: dict[tuple, list[dg.AssetChecksDefinition]] = {}
    out: list = []
    for checks_def in checks:
        spec = next(iter(checks_def.check_specs))
        if _groupable(checks_def) is None:
            out.append(checks_def)
            continue
        key = (spec.asset_key, spec.partitions_def)
        if key not in groups:
            groups[key] = []
            out.append(key)
        groups[key].append(checks_def)
    return [item if isinstance(item, dg.AssetChecksDefinition) else _merged(groups[item]) for item in out]


def _merged(group: list[dg.AssetChecksDefinition]) -> dg.AssetChecksDefinition:
    if len(group) == 1:
        return group[0]
    specs = [next(iter(d.check_specs)) for d in group]
    fns = {spec.key: _groupable(d) for spec, d in zip(specs, group, strict=True)}
    resource_keys = set().union(*(d.required_resource_keys for d in group))
    asset = specs[0].asset_key.to_python_identifier()

    @dg.multi_asset_check(
        name=f"{asset}_checks",
        specs=specs,
        can_subset=True,  # a check run alone (the UI's "Execute", an engine's subset) runs only itself
        required_resource_keys=resource_keys,
        description=f"The asset checks of {specs[0].asset_key.to_user_string()}, one op.",
    )
    def _checks(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
        selected = context.selected_asset_check_keys
        failures: list[tuple[str, Exception]] = []
        shared: dict = {}  # the root's inventory and the views the checks read, taken once (quality.reuse)
        for spec in specs:
            if spec.key not in selected:
                continue
            try:
                with reuse.sharing(shared):  # never across a yield: Dagster runs its own code between them
                    result = _call(fns[spec.key], _OneCheck(context, spec), context)
            except Exception as err:  # the other checks still run and report; the op then fails with this error
                failures.append((spec.name, err))
                continue
            yield dg.AssetCheckResult(
                passed=result.passed,
                asset_key=spec.asset_key,
                check_name=spec.name,
                metadata=result.metadata,
                severity=result.severity,
                description=result.description,
            )
        if failures:
            name, first = failures[0]
            first.add_note(f"in asset check {name} of {specs[0].asset_key.to_user_string()}")  # the op is shared
            for other, err in failures[1:]:  # nothing silent: the others' errors ride along
                first.add_note(f"asset check {other} raised too: {type(err).__name__}: {err}")
            raise first

    return _checks


def _call(fn: DecoratedOpFunction, one: _OneCheck, context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    """The check's function as Dagster calls it for a check op of its own: the context, then its resources."""
    resources = {arg.name: getattr(context.resources, arg.name) for arg in fn.get_resource_args()}
    result = fn.decorated_fn(one, **resources) if fn.has_context_arg() else fn.decorated_fn(**resources)
    if not isinstance(result, dg.AssetCheckResult):
        raise TypeError(f"asset check {one.check_specs[0].name} returned {type(result).__name__}, not a result")
    return result
