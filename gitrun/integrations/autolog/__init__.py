"""What every autologging integration shares: runs, safety, patching, import hooks."""
