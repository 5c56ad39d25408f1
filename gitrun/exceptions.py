"""MLflow-compatible names for gitrun's errors."""

from gitrun.errors import GitrunError

MlflowException = GitrunError

__all__ = ["GitrunError", "MlflowException"]
