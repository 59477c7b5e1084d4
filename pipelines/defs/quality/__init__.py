"""Quality stage: the PHI audit and the stewards' site as assets, and asset checks for every asset."""
