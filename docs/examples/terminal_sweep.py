"""Make the repository the user guide's "Looking at results in the terminal" shows.

    python docs/examples/terminal_sweep.py /tmp/sweep-demo && cd /tmp/sweep-demo && gitrun runs ls

A learning-rate sweep (nested runs, per-epoch metrics; synthetic, deterministic
curves) committed as train.py, then a retry of lr=0.1 with a larger batch and one line
of train.py changed but not committed (so `gitrun diff` has something to show).
"""

import os
import subprocess
import sys

TRAIN = '''\
import math
import sys
import gitrun

batch = int(sys.argv[1]) if len(sys.argv) > 1 else 64
gitrun.set_experiment("mnist-sweep")
with gitrun.start_run(run_name="lr-sweep" if batch == 64 else "lr=0.1-retry") as top:
    rates = {0.1: 0.9, 0.01: 0.35, 0.001: 0.08} if batch == 64 else {0.1: 0.9}
    for lr, rate in rates.items():
        nested = batch == 64
        with gitrun.start_run(run_name=f"lr={lr}", nested=True) if nested else top:
            gitrun.log_params({"lr": lr, "epochs": 20, "batch_size": batch})
            for epoch in range(20):
                loss = 0.08 + math.exp(-rate * epoch) + (0.004 * epoch if lr == 0.1 else 0)
                gitrun.log_metric("val_loss", round(loss, 4), step=epoch)
                gitrun.log_metric("val_acc", round(1 - loss / 1.3, 4), step=epoch)
'''


def main(folder: str) -> None:
    os.makedirs(folder, exist_ok=True)
    git = ["git", "-C", folder, "-c", "user.name=You", "-c", "user.email=you@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    with open(os.path.join(folder, "train.py"), "w") as fh:
        fh.write(TRAIN)
    subprocess.run([*git, "add", "train.py"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "training script"], check=True)
    subprocess.run([sys.executable, "train.py"], cwd=folder, check=True)
    with open(os.path.join(folder, "train.py"), "w") as fh:
        fh.write(TRAIN.replace("0.004 * epoch", "0.005 * epoch"))
    subprocess.run([sys.executable, "train.py", "128"], cwd=folder, check=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "sweep-demo")
