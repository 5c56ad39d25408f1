"""The derived search index: MLflow's filter grammar over a SQLite file rebuilt from git."""
