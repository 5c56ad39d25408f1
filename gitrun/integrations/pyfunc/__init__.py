"""Custom ``PythonModel``s and the generic ``PyFuncModel``."""
