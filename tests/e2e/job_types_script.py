"""User code for the job-type tests: a sweep/benchmark scorer, a chunked mapper, and a reducer."""

import json
import os
import time
from pathlib import Path


def handle(payload: dict) -> dict:
    time.sleep(payload.get("sleep", 0))
    if "map_results" in payload:
        return {"total": sum(r["sum"] for r in payload["map_results"] if r), "parts": len(payload["map_results"])}
    if "seeds" in payload:
        start = payload["chunk_start"]
        return {
            "n": payload["seeds"],
            "sum": sum(range(start, start + payload["seeds"])),
            "edge": float(payload["chunk_index"]),
            "tags": [payload["chunk_index"]],
        }
    a, b = payload.get("a", 1), payload.get("b", 1)
    result = {
        "score": a * b,
        "metrics": {"loss": 1 / (a * b)},
        "time": payload.get("base", 0) + payload.get("replica", 0),
    }
    if "weight" in payload:
        result["weight"] = payload["weight"]
    return result


payload = json.loads(Path(os.environ["COMPUTALOT_TASK_PAYLOAD"]).read_text())
batch = payload.get("batch")
result = [handle({**payload, **element}) for element in batch] if batch else handle(payload)
Path(os.environ["COMPUTALOT_TASK_RESULT"]).write_text(json.dumps(result))
