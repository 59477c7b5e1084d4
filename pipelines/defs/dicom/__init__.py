"""DICOM source: header index, Annex E de-identification, imaging tables and MEDS-bound events."""
