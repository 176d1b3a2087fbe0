"""Domain-free metric and plotting helpers that several plugins share."""
