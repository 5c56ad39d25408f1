"""Hugging Face Transformers: the flavor, ``GitrunCallback``, autologging, the mlflow alias."""
