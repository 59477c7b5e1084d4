"""Timeline transformer: tokenizer, training shards and packing, Triton kernels, training."""
