"""A scripted OpenAI-compatible server on loopback: real HTTP, for the real openai + instructor client path.

`ScriptedServer(respond)` calls `respond(request, n)` for the n-th request (from 1)
and sends back its `Reply`. `GoldAnswerer` answers table and re-ask requests from
gold labels, with mistakes injected where a test wants them. Token usage is
counted the same way for every request (`count_tokens`), so setups can be compared.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from schemas.answers import answer_rows
from schemas.flat import unflatten

_TOKEN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[A-Za-z]+|\d+|[^\sA-Za-z\d]")


def count_tokens(text: str) -> int:
    """An offline stand-in for a tokenizer: one token per CJK character, word, number or symbol."""
    return len(_TOKEN.findall(text))


@dataclass
class Reply:
    body: dict[str, Any] | str | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (a timeout, when longer than the client waits)


Respond = Callable[[dict[str, Any], int], Reply]


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # the default of 5 drops connections when many calls arrive at once
    daemon_threads = True


class ScriptedServer:
    def __init__(self, respond: Respond, record: bool = True, port: int = 0) -> None:
        self.respond = respond
        self.record = record  # keep every request (tests read them; a long benchmark would only grow)
        self.requests: list[dict[str, Any]] = []
        self.count = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real endpoints do
            disable_nagle_algorithm = True  # else each small reply waits ~40 ms for a delayed ACK

            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server._lock:
                    server.count += 1
                    number = server.count
                    if server.record:
                        server.requests.append(request)
                reply = server.respond(request, number)
                if reply.delay:
                    time.sleep(reply.delay)
                body = (reply.body if isinstance(reply.body, str) else json.dumps(reply.body or {})).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = _Server(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def prompt_text(request: dict[str, Any]) -> str:
    return "\n".join(m["content"] for m in request["messages"] if isinstance(m.get("content"), str))


def request_tokens(request: dict[str, Any]) -> int:
    schema = json.dumps(request.get("tools") or request.get("response_format") or "", ensure_ascii=False)
    return count_tokens(prompt_text(request)) + count_tokens(schema)


def completion(request: dict[str, Any], arguments: dict[str, Any] | str, finish_reason: str = "stop") -> dict:
    """A chat completion answering `request` with `arguments`, as a tool call or as content, by its mode."""
    text = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
    message: dict[str, Any] = {"role": "assistant", "content": None}
    if request.get("tools"):
        name = request["tools"][0]["function"]["name"]
        message["tool_calls"] = [{"id": "call_1", "type": "function", "function": {"name": name, "arguments": text}}]
    elif request.get("response_format"):  # JSON and JSON_SCHEMA modes
        message["content"] = text
    else:  # MD_JSON mode asks for a fenced block
        message["content"] = f"```json\n{text}\n```"
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": 0,
        "model": request.get("model", "scripted"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": {
            "prompt_tokens": request_tokens(request),
            "completion_tokens": count_tokens(text),
            "total_tokens": request_tokens(request) + count_tokens(text),
        },
    }


def requested_schema(request: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The answer model's name and JSON Schema, whichever way the mode sent it."""
    if request.get("tools"):
        function = request["tools"][0]["function"]
        return function["name"], function["parameters"]
    if isinstance(request.get("response_format"), dict) and "json_schema" in request["response_format"]:
        spec = request["response_format"]["json_schema"]
        return spec["name"], spec["schema"]
    text = prompt_text(request)  # JSON and MD_JSON modes put the schema in the system prompt
    start = re.search(r'\{\s*"', text)
    schema = json.JSONDecoder().raw_decode(text[start.start() :])[0] if start else {}
    return schema.get("title", ""), schema


def _plain(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


@dataclass
class GoldAnswerer:
    """Answers from gold labels. `mistakes[source][key]` replaces a value in the first answer for that cell;
    `stubborn` mistakes are repeated in every answer."""

    golds: dict[str, dict[str, Any]]
    mistakes: dict[str, dict[str, Any]] = field(default_factory=dict)
    stubborn: bool = False
    answered: set[tuple[str, str]] = field(default_factory=set)

    @classmethod
    def from_folder(cls, folder: Path, **kwargs: Any) -> GoldAnswerer:
        golds = {}
        for path in sorted(folder.glob("*.json")):
            gold = json.loads(path.read_text("utf-8"), parse_float=Decimal)
            golds[gold["source"]] = gold
        return cls(golds, **kwargs)

    def source_of(self, request: dict[str, Any]) -> str:
        match = re.search(r"File: (\S+)", prompt_text(request))
        assert match, "the prompt names its file"
        return match.group(1)

    def value(self, source: str, key: str) -> Any:
        wrong = self.mistakes.get(source, {})
        if key in wrong and (self.stubborn or (source, key) not in self.answered):
            self.answered.add((source, key))
            return wrong[key]
        self.answered.add((source, key))
        return _plain(self.golds[source]["fields"][key])

    def arguments(self, request: dict[str, Any]) -> dict[str, Any]:
        source = self.source_of(request)
        name, schema = requested_schema(request)
        gold = self.golds[source]
        if name.startswith("Table"):
            return self.table(source, f"t{name[5]}")
        if name.startswith("AllTables"):
            return {table: self.table(source, table) for table in ("t2", "t3", "t4")}
        if name.startswith("Report"):  # the whole strict report model, as a naive setup asks for it
            fields = {key: self.value(source, key) for key in gold["fields"]}
            return unflatten(gold["template"], fields).model_dump(mode="json")
        return {key: self.value(source, key) for key in schema["properties"]}

    def table(self, source: str, table: str) -> dict[str, list[Any]]:
        rows = answer_rows(table, self.golds[source]["template"])
        return {row: [self.value(source, key) for key in keys] for row, keys in rows}

    def __call__(self, request: dict[str, Any], number: int) -> Reply:
        return Reply(completion(request, self.arguments(request)))


def main() -> None:
    """Serve gold answers on loopback until interrupted: the perfect model, for `nianbao eval` by hand.

    python tests/scripted_server.py eval/gold --port 8765
    nianbao eval --gold eval/gold --backend llm --base-url http://127.0.0.1:8765/v1 --model scripted
    """
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("gold", type=Path, nargs="+", help="gold folders to answer from")
    parser.add_argument("--port", type=int, default=8765)
    arguments = parser.parse_args()
    answerer = GoldAnswerer.from_folder(arguments.gold[0])
    for folder in arguments.gold[1:]:
        answerer.golds.update(GoldAnswerer.from_folder(folder).golds)
    with ScriptedServer(answerer, record=False, port=arguments.port) as server:
        print(f"answering from {len(answerer.golds)} gold files at {server.url}", flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
