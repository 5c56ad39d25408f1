"""pmdarima: the flavor (pickled ARIMA models and pipelines, verified)."""
