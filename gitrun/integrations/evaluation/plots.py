"""The evaluation plots (MLflow's artifact names): confusion matrix, ROC and precision-recall curves.

Drawn on bare matplotlib ``Figure`` objects (no pyplot: no GUI backend, nothing
left in a global registry).  Skipped when matplotlib is not installed.
"""

from __future__ import annotations

from typing import Any


def confusion_matrix_figure(y: Any, predicted: Any, labels: list[Any]) -> Any:
    from matplotlib.figure import Figure
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(y, predicted, labels=labels)
    figure = Figure(figsize=(max(4.0, 0.6 * len(labels) + 2), max(3.5, 0.6 * len(labels) + 1.5)))
    axes = figure.subplots()
    image = axes.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=axes)
    axes.set_xticks(range(len(labels)), [str(label) for label in labels])
    axes.set_yticks(range(len(labels)), [str(label) for label in labels])
    axes.set_xlabel("Predicted label")
    axes.set_ylabel("True label")
    axes.set_title("Confusion matrix")
    limit = matrix.max() / 2 if matrix.size else 0
    for (row, column), count in _cells(matrix):
        axes.text(
            column, row, str(count), ha="center", va="center", color="white" if count > limit else "black"
        )
    figure.tight_layout()
    return figure


def _cells(matrix: Any) -> list[tuple[tuple[int, int], int]]:
    return [((r, c), int(matrix[r, c])) for r in range(matrix.shape[0]) for c in range(matrix.shape[1])]


def curve_figure(y: Any, scores: Any, labels: list[Any], kind: str) -> Any:
    """``kind`` = ``roc`` or ``pr``: one curve per class (the positive one only when binary)."""
    import numpy as np
    from matplotlib.figure import Figure
    from sklearn.metrics import auc, precision_recall_curve, roc_curve

    y, scores = np.asarray(y), np.asarray(scores)
    figure = Figure(figsize=(6.0, 5.0))
    axes = figure.subplots()
    shown = [len(labels) - 1] if len(labels) == 2 else range(len(labels))
    for index in shown:
        truth = y == labels[index]
        if truth.all() or not truth.any():
            continue
        if kind == "roc":
            x_values, y_values, _ = roc_curve(truth, scores[:, index])
        else:
            y_values, x_values, _ = precision_recall_curve(truth, scores[:, index])
        axes.plot(x_values, y_values, label=f"class {labels[index]} (AUC={auc(x_values, y_values):.3f})")
    if kind == "roc":
        axes.plot([0, 1], [0, 1], linestyle="--", color="grey")
        axes.set_xlabel("False Positive Rate")
        axes.set_ylabel("True Positive Rate")
        axes.set_title("ROC curve")
    else:
        axes.set_xlabel("Recall")
        axes.set_ylabel("Precision")
        axes.set_title("Precision recall curve")
    axes.legend(loc="best", fontsize="small")
    figure.tight_layout()
    return figure
