"""statsmodels: the flavor (pickled results, verified) and autologging of ``fit``."""
