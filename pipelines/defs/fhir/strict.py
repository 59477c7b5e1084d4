"""Full FHIR validation with fhir.resources (R4B models, the closest the package has to R4) for --strict."""

from functools import cache


@cache
def _model(resource_type: str):
    from fhir.resources.R4B import get_fhir_model_class

    try:
        return get_fhir_model_class(resource_type)
    except (KeyError, AttributeError, ValueError):
        return None  # R4-only types (e.g. EffectEvidenceSynthesis) have no R4B model: fast-path rules apply


def validation_errors(resource: dict) -> str | None:
    """None if valid, else the failing element paths and error kinds (never the values)."""
    model = _model(resource["resourceType"])
    if model is None:
        return None
    from pydantic import ValidationError

    try:
        model.model_validate(resource)
    except ValidationError as err:
        parts = sorted({f"{'.'.join(str(p) for p in e['loc'])}: {e['type']}" for e in err.errors()})
        return "; ".join(parts[:5]) + (f"; and {len(parts) - 5} more" if len(parts) > 5 else "")
    return None
