"""Every generated resource is valid FHIR R4 (fhir.resources' R4B models: 8.x defaults to R5)."""

from collections import Counter

import orjson
import pytest
from fhir.resources.R4B import get_fhir_model_class

from tests.synthetic.conftest import Landing, read_bundle


def _validate(resource: dict) -> None:
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def test_every_bundle_entry_validates(landing: Landing) -> None:
    seen: Counter = Counter()
    for bundle in landing.bundles.values():
        for e in bundle["entry"]:
            _validate(e["resource"])
            seen[e["resource"]["resourceType"]] += 1
    expected = {"Patient", "Encounter", "Observation", "Condition", "MedicationRequest", "Procedure", "Immunization",
                "DiagnosticReport", "ImagingStudy", "DocumentReference", "Organization", "Practitioner"}  # fmt: skip
    assert expected <= set(seen)


def test_every_ndjson_line_validates(landing: Landing) -> None:
    n = 0
    for path in sorted((landing.root / "fhir" / "ndjson").iterdir()):
        for line in path.read_bytes().splitlines():
            resource = orjson.loads(line)
            assert resource["resourceType"] == path.name.removesuffix(".ndjson")
            _validate(resource)
            n += 1
    assert n > 1000


def test_whole_bundles_validate_as_bundles(landing: Landing) -> None:
    bundle_class = get_fhir_model_class("Bundle")
    for path in sorted((landing.root / "fhir" / "bundles").iterdir())[:1]:  # nested validation; slow
        bundle_class.model_validate(read_bundle(path))


def test_the_validator_would_catch_a_broken_resource(landing: Landing) -> None:
    obs = next(r for r in landing.ndjson["Observation"] if "valueQuantity" in r)
    broken = {**obs, "valueQuantity": {**obs["valueQuantity"], "value": "high"}}
    with pytest.raises(ValueError):
        _validate(broken)
