"""What every model flavor shares: descriptor, signature, requirements, storage."""
