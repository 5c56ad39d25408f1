"""CatBoost: the flavor (CatBoost's own ``cbm`` format)."""
