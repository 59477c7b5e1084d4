"""Model stage: the timeline transformer trained on the tokenized trajectories (`longitude train` as an asset)."""
