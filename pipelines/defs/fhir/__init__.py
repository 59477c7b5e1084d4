"""FHIR R4 ingest: bundles and bulk NDJSON under landing/fhir/ to raw events, patients and code texts."""
