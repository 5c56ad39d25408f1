"""spaCy: the flavor (a pipeline saved with ``to_disk``)."""
