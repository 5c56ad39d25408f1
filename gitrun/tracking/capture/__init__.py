"""What a run records about its context: code, environment, source."""
