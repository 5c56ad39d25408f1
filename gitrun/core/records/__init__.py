"""The git record store: experiments and runs as YAML records on one git ref."""
