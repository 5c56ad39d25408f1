"""Model evaluation (MLflow's ``mlflow.evaluate``): default metrics, plots, custom metrics."""
