"""Write bot/qa/all-MiniLM-L6-v2.onnx, the embedder's ONNX graph (weights not included).

The graph is built by ``bot.qa.onnx_bert.build_graph`` from the model's ``config.json``; the
bot loads this file rather than building it at each start, because importing the ``onnx``
package costs about a second (see that module's docstring). Run it after changing
``build_graph``; tests/qa/test_onnx_embedder.py fails until the file is rewritten:

    .venv/bin/python dev/make_onnx_graph.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.qa.embedder import default_model_dir  # noqa: E402
from bot.qa.onnx_bert import GRAPH_PATH, build_graph  # noqa: E402


def main() -> int:
    config = json.loads((default_model_dir() / "config.json").read_text(encoding="utf-8"))
    graph = build_graph(config)
    GRAPH_PATH.write_bytes(graph)
    print(f"wrote {GRAPH_PATH.relative_to(ROOT)} ({len(graph):,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
