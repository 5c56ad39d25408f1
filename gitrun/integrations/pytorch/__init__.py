"""PyTorch: the flavor (``torch.save``), Lightning and plain-loop autologging."""
