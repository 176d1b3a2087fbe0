"""Lepton on Spark: batch scoring (`lepton predict --engine spark`), DDP training across executors
(`lepton run ... launcher=spark`) and preprocessing fitted with Spark aggregations.

Needs pyspark (`pip install lepton-core[spark]`) and Java 17+; nothing here is imported unless used.
"""
