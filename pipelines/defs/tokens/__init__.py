"""Tokens stage: the vocabulary fitted on train and tokenized trajectories per split and shard."""
