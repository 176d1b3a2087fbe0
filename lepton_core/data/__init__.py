"""Domain-free data pieces that several plugins share."""
