"""Transformers' Trainer with report_to="mlflow" (a tiny offline BERT), through the server.

Needs torch, transformers and accelerate in the MLflow venv (on demand, see docs/server.md).
"""

import json
import os
import sys

import mlflow
import torch
import transformers


class RandomTokens(torch.utils.data.Dataset):
    def __init__(self, n=32, seed=0):
        generator = torch.Generator().manual_seed(seed)
        self.ids = torch.randint(0, 100, (n, 16), generator=generator)
        self.labels = torch.randint(0, 2, (n,), generator=generator)

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {
            "input_ids": self.ids[i],
            "attention_mask": torch.ones(16, dtype=torch.long),
            "labels": self.labels[i],
        }


os.environ["MLFLOW_EXPERIMENT_NAME"] = "hf"
torch.manual_seed(0)
config = transformers.BertConfig(
    vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64
)
model = transformers.BertForSequenceClassification(config)
args = transformers.TrainingArguments(
    output_dir=os.path.join(sys.argv[1], "results"),
    report_to="mlflow",
    logging_steps=2,
    max_steps=6,
    per_device_train_batch_size=8,
    use_cpu=True,
    save_strategy="no",
    disable_tqdm=True,
)
trainer = transformers.Trainer(model=model, args=args, train_dataset=RandomTokens())
trainer.train()
run = mlflow.last_active_run()
print(
    "RESULT "
    + json.dumps({"run": run.info.run_id, "params": len(run.data.params), "metrics": run.data.metrics})
)
