"""The user code the end-to-end tests push: its payload says how to behave."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

payload = json.loads(Path(os.environ["COMPUTALOT_TASK_PAYLOAD"]).read_text())
attempt = int(os.environ["COMPUTALOT_ATTEMPT"])
for i in range(payload.get("print", 0)):
    print(f"line {i}")
if "progress" in payload:
    print("COMPUTALOT_PROGRESS:" + json.dumps(payload["progress"]))
if payload.get("stderr"):
    print(payload["stderr"], file=sys.stderr)
if payload.get("pidfile"):
    child = subprocess.Popen(["sleep", "300"])
    with open(payload["pidfile"] + ".tmp", "w") as out:
        out.write(f"{os.getpid()} {child.pid}")
    os.replace(payload["pidfile"] + ".tmp", payload["pidfile"])
resumed = False
if payload.get("checkpoint"):
    marker = Path(os.environ["COMPUTALOT_CHECKPOINT_DIR"]) / "state"
    resumed = marker.exists()
    marker.write_text("1")
time.sleep(payload.get("sleep", 0))
if attempt <= payload.get("fail_until_attempt", 0):
    sys.exit(3)
if payload.get("exit"):
    sys.exit(payload["exit"])
if payload.get("no_result"):
    sys.exit(0)
result = {
    "echo": payload,
    "index": int(os.environ["COMPUTALOT_TASK_INDEX"]),
    "count": int(os.environ["COMPUTALOT_TASK_COUNT"]),
    "attempt": attempt,
    "job_id": os.environ["COMPUTALOT_JOB_ID"],
    "task_id": os.environ["COMPUTALOT_TASK_ID"],
    "resumed_from_checkpoint": resumed,
}
Path(os.environ["COMPUTALOT_TASK_RESULT"]).write_text(json.dumps(result))
