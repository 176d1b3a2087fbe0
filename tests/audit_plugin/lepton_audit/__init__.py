"""lepton-audit: an audit log of every Lepton run (a lifecycle-only plugin)."""
