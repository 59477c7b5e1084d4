"""Built-in synthetic demo data: a landing tree of FHIR, DICOM and clinical notes with PHI, and its truth.

`generate_landing(out, patients, seed)` is the API; `longitude generate` is the command. See landing.py for the
layout contract.
"""

from synthetic.landing import generate_landing

__all__ = ["generate_landing"]
