"""JSON-lines serving for the PyTorch helpers of the benchmarks (bench_torch.py, bench_torch_train.py)."""
import json
import sys


def serve(hello, handlers):
    """Writes `hello`, then answers each JSON request line on stdin with `handlers[req["cmd"]](req)` (a dict) until
    {"cmd": "quit"}; an unknown command gets {"error": ...}."""

    def reply(obj):
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    reply(hello)
    for line in sys.stdin:
        req = json.loads(line)
        cmd = req["cmd"]
        if cmd == "quit":
            break
        handler = handlers.get(cmd)
        reply(handler(req) if handler else {"error": f"unknown command {cmd}"})
