"""XGBoost: the flavor (the library's own model file) and autologging of ``train``/``fit``."""
