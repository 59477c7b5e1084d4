"""Identities inside one Bundle: an entry's fullUrl names its resource, so references resolve through it."""

from pipelines.defs.fhir.primitives import InvalidRecordError, reference_id

# The reference fields the extractors read a patient (or an encounter) from.
_REFERENCE_FIELDS = ("subject", "patient", "encounter")
_TAILED = ("urn:uuid:", "http")


def renamed_entries(entries: list) -> dict[str, tuple[str, str]]:
    """fullUrl -> (resource type, the id its resource is known by) for the entries where that id is not the
    fullUrl's tail: a transaction Bundle may give a resource no `id` at all (its fullUrl `urn:uuid:...` is its
    identity), or an id other than the fullUrl's. Empty for Bundles whose fullUrls end in their ids, as most
    exports write them, so those pay one pass over the entries and nothing per resource.

    >>> renamed_entries([{"fullUrl": "urn:uuid:a1", "resource": {"resourceType": "Patient"}},
    ...                  {"fullUrl": "urn:uuid:b2", "resource": {"resourceType": "Patient", "id": "b2"}}])
    {'urn:uuid:a1': ('Patient', 'a1')}
    """
    out: dict[str, tuple[str, str]] = {}
    for e in entries:
        r = e.get("resource") if isinstance(e, dict) else None
        url = e.get("fullUrl") if isinstance(r, dict) else None
        if not isinstance(url, str) or not isinstance(r.get("resourceType"), str):
            continue
        rid = r.get("id")
        if isinstance(rid, str) and url.endswith(rid) and url[-len(rid) - 1] in ":/" and url.startswith(_TAILED):
            continue  # urn:uuid:<id> or .../Type/<id>: the common case, decided without parsing the URL
        try:
            tail = reference_id({"reference": url}, "Bundle.entry.fullUrl")
        except InvalidRecordError:
            continue
        if rid != tail:
            out[url] = (r["resourceType"], rid if isinstance(rid, str) else tail)
    return out


def resolve(resource: dict, url: object, renamed: dict[str, tuple[str, str]]) -> dict:
    """The resource as the extractors should see it: an id from its fullUrl when it has none, and references to
    renamed entries pointing at the ids those entries carry (`Type/id`). The input is never changed.

    >>> renamed = {"urn:uuid:a1": ("Patient", "a1"), "urn:uuid:x9": ("Patient", "p7")}
    >>> resolve({"resourceType": "Patient"}, "urn:uuid:a1", renamed)["id"]
    'a1'
    >>> resolve({"resourceType": "Observation", "subject": {"reference": "urn:uuid:x9"}}, "u", renamed)["subject"]
    {'reference': 'Patient/p7'}
    """
    if not renamed:
        return resource
    out = resource
    if isinstance(url, str) and url in renamed and resource.get("id") is None:
        out = {**out, "id": renamed[url][1]}
    for field in _REFERENCE_FIELDS:
        ref = resource.get(field)
        target = ref.get("reference") if isinstance(ref, dict) else None
        if isinstance(target, str) and target in renamed:
            out = {**out, field: {**ref, "reference": "/".join(renamed[target])}}
    return out
