"""Keras 3: the flavor (``.keras`` files), the callback and autologging of ``fit``."""
