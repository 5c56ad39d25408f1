"""Turning in-memory objects into artifact bytes: text, dicts, figures, images.

Formats follow MLflow: ``log_dict`` writes YAML for ``.yml``/``.yaml`` and JSON
(indent 2, ``default=str``) for anything else; ``log_figure`` saves matplotlib
figures with ``savefig`` and plotly figures as HTML or images; ``log_image`` takes
numpy arrays (H x W, H x W x 1/3/4; bool, integers 0-255, floats 0-1) and PIL
images.  numpy, PIL, matplotlib and plotly are imported only when used.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import sys
import tempfile
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from gitrun.core.artifacts.paths import normalize_artifact_path

IMAGE_KEY = re.compile(r"^[a-zA-Z0-9_\-./ ]+$")
COMPRESSED_IMAGE_SIZE = 256
_PLOTLY_IMAGES = (".png", ".jpeg", ".webp", ".svg", ".pdf")


def dict_bytes(dictionary: Any, artifact_file: str) -> bytes:
    """A dict as MLflow's ``log_dict`` writes it (YAML or JSON by extension)."""
    extension = posixpath.splitext(artifact_file)[1]
    if extension in (".yml", ".yaml"):
        import yaml

        return str(yaml.dump(dictionary, indent=2, default_flow_style=False)).encode("utf-8")
    return json.dumps(dictionary, indent=2, default=str).encode("utf-8")


def save_figure(
    figure: Any, artifact_file: str, save_kwargs: Mapping[str, Any] | None, log: Callable[[Path], object]
) -> None:
    """Save a matplotlib or plotly figure to a temporary file named like
    ``artifact_file`` and pass it to ``log``.

    Raises:
        TypeError: not a figure, or a plotly extension that has no writer.
    """
    kwargs = dict(save_kwargs or {})
    name = posixpath.basename(normalize_artifact_path(artifact_file))
    with tempfile.TemporaryDirectory(prefix="gitrun-figure-") as scratch:
        path = Path(scratch) / name
        if _is_matplotlib_figure(figure):
            figure.savefig(path, **kwargs)
        elif _is_plotly_figure(figure):
            extension = os.path.splitext(name)[1]
            if extension == ".html":
                kwargs.setdefault("include_plotlyjs", "cdn")
                kwargs.setdefault("auto_open", False)
                figure.write_html(str(path), **kwargs)
            elif extension in _PLOTLY_IMAGES:
                figure.write_image(str(path), **kwargs)
            else:
                raise TypeError(f"Unsupported file extension for plotly figure: '{extension}'")
        else:
            raise TypeError(f"Unsupported figure object type: '{type(figure)}'")
        log(path)


def _is_matplotlib_figure(figure: Any) -> bool:
    # Only when matplotlib is loaded already: a plotly user need not have it.
    if "matplotlib" not in sys.modules:
        return False
    import matplotlib.figure

    return isinstance(figure, matplotlib.figure.Figure)


def _is_plotly_figure(figure: Any) -> bool:
    if "plotly" not in sys.modules:
        return False
    import plotly.graph_objects

    return isinstance(figure, plotly.graph_objects.Figure)


def to_pil_image(image: Any) -> Any:
    """A PIL image from a PIL image or a numpy array (MLflow's conversion rules).

    Raises:
        TypeError: not an image, or an array of an unsupported dtype.
        ValueError: a wrong shape, or integers outside 0-255.
    """
    if hasattr(image, "to_pil") and callable(image.to_pil):
        image = image.to_pil()
    if type(image).__module__.startswith("PIL.") or _is_pil(image):
        return image
    if type(image).__module__ != "numpy" and not hasattr(image, "__array_interface__"):
        raise TypeError(
            f"Unsupported image object type: {type(image)}. `image` must be one of numpy.ndarray "
            "and PIL.Image.Image."
        )
    import numpy as np
    from PIL import Image

    array = np.asarray(image)
    kinds = {"b": "bool", "i": "signed integer", "u": "unsigned integer", "f": "floating"}
    if array.dtype.kind not in kinds:
        raise TypeError(f"Invalid array data type: '{array.dtype}'. Must be one of {list(kinds.values())}")
    if array.ndim not in (2, 3):
        raise ValueError(f"`image` must be a 2D or 3D array but got image shape: {array.shape}")
    if array.ndim == 3 and array.shape[2] not in (1, 3, 4):
        raise ValueError(f"Invalid channel length: {array.shape[2]}. Must be one of [1, 3, 4]")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    return Image.fromarray(_to_uint8(array))


def _is_pil(image: Any) -> bool:
    if "PIL" not in sys.modules:
        return False
    import PIL.Image

    return isinstance(image, PIL.Image.Image)


def _to_uint8(array: Any) -> Any:
    import numpy as np

    is_int = np.issubdtype(array.dtype, np.integer)
    high = 255 if is_int else 1
    if array.size and (array.min() < 0 or array.max() > high):
        if is_int:
            raise ValueError(
                "Integer pixel values out of acceptable range [0, 255]. Found minimum value "
                f"{array.min()} and maximum value {array.max()}. Ensure all pixel values are within "
                "the specified range."
            )
        warnings.warn(
            f"Float pixel values out of acceptable range [0.0, 1.0]. Found minimum value {array.min()} "
            f"and maximum value {array.max()}. Rescaling values to [0.0, 1.0] with min/max scaler.",
            stacklevel=4,
        )
        span = array.max() - array.min()
        array = (array - array.min()) / (span if span else 1)
    if not is_int:
        array = array * 255
    return array.astype(np.uint8)


def image_bytes(image: Any, artifact_file: str) -> bytes:
    """An image encoded in the format its file name says (PIL's ``save``)."""
    import io

    buffer = io.BytesIO()
    extension = os.path.splitext(artifact_file)[1].lower()
    from PIL import Image

    fmt = Image.registered_extensions().get(extension)
    if fmt is None:
        raise ValueError(f"unknown image file extension {extension!r} in {artifact_file!r}")
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def compressed(image: Any) -> Any:
    """The thumbnail MLflow logs beside a key-mode image (fits in 256 x 256)."""
    width, height = image.size
    if width > height:
        size = (COMPRESSED_IMAGE_SIZE, max(1, int(height * COMPRESSED_IMAGE_SIZE / width)))
    else:
        size = (max(1, int(width * COMPRESSED_IMAGE_SIZE / height)), COMPRESSED_IMAGE_SIZE)
    return image.resize(size)


def image_stem(key: str, step: int, timestamp: int, unique: str) -> str:
    """``images/<key, / as ~>+step+<step>+timestamp+<ms>+<uuid>`` (MLflow's names).

    Raises:
        ValueError: the key has characters MLflow refuses.
    """
    if not isinstance(key, str) or not IMAGE_KEY.match(key):
        raise ValueError(
            "The `key` parameter may only contain alphanumerics, underscores (_), dashes (-), periods "
            f"(.), spaces ( ), and slashes (/). The provided key `{key}` contains invalid characters."
        )
    return f"images/{key.replace('/', '~')}+step+{step}+timestamp+{timestamp}+{unique}"
