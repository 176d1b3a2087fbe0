"""Customer behaviour: churn and CLV from a transaction log, a GRU sequence model vs BG/NBD + Gamma-Gamma, RFM."""
