"""The PyTorch side of `groundup report`: a reference script that measured the same model with
the same recipe as a groundup training command leaves <runs>/<name>.pytorch.json with the
fields of groundup's run record (tools/run_record.h) — at least "name", "metric" and "value",
the same name and metric as groundup's record — and the report puts its value beside ours.
<runs> is $GROUNDUP_RUNS, else out/runs. Written to a temporary file, then renamed.
"""
import json
import os
import sys


def write_pytorch_record(name, metric, value, higher_is_better, **fields):
    directory = os.environ.get("GROUNDUP_RUNS") or "out/runs"
    os.makedirs(directory, exist_ok=True)
    record = {"name": name, "metric": metric, "value": float(value), "higher_is_better": bool(higher_is_better),
              "command": " ".join(["/usr/bin/python3"] + sys.argv)}
    record.update({key: v for key, v in fields.items() if v is not None})
    path = os.path.join(directory, name + ".pytorch.json")
    temporary = f"{path}.tmp.{os.getpid()}"
    with open(temporary, "w") as f:
        json.dump(record, f, indent=1)
        f.write("\n")
    os.replace(temporary, path)
    print(f"run record {path}", file=sys.stderr)
