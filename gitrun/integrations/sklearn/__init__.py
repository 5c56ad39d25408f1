"""scikit-learn: the flavor (pickled estimators) and autologging of ``fit``."""
