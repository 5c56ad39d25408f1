"""Prophet: the flavor (the model as Prophet's own JSON)."""
