"""The review web app (`nianbao review serve`): the app, its security, and the source files it keeps read.

Reports are untrusted input. Templates autoescape; the Content-Security-Policy allows only this app's own script
and styles; every state-changing request carries the page's CSRF token in a header; a server bound beyond
loopback asks every request for its access token; and the only files served are the app's static files and page
images of the sources the store records, found by result id, never by a path a request names.
"""

from __future__ import annotations

import hmac
import io
import secrets
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar
from urllib.parse import quote, unquote

import jinja2
import pypdfium2 as pdfium
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from extractor.document import Document
from extractor.pdftext import PDFIUM_LOCK  # pdfium is not thread-safe: one lock for every reader
from extractor.review import source_document
from extractor.store import Store
from schemas.result import Result

HERE = Path(__file__).parent
LOOPBACK = ("127.0.0.1", "localhost", "::1")
CSRF_HEADER = "x-csrf-token"
TOKEN_COOKIE = "nianbao_token"
REVIEWER_COOKIE = "nianbao_reviewer"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PAGE_SCALE = 1.5  # page images at 108 dpi: table digits stay legible
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


K = TypeVar("K")
V = TypeVar("V")


class _Cache(Generic[K, V]):
    """A small least-recently-used map, safe across the server's threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[K, V] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: K, make: Callable[[], V]) -> V:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        value = make()
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return value


@dataclass
class Sources:
    """Each report's source, read once per server process: a live re-verify then costs only the verifier."""

    documents: _Cache[tuple[str, str | None], Document] = field(default_factory=lambda: _Cache(16))
    pages: _Cache[tuple[str, int], bytes] = field(default_factory=lambda: _Cache(32))
    sizes: _Cache[str, list[tuple[float, float]]] = field(default_factory=lambda: _Cache(16))

    def document(self, path: str, result: Result) -> Document:
        return self.documents.get((path, result.sha256), lambda: source_document(path, result))

    def page_sizes(self, path: str) -> list[tuple[float, float]]:
        """Each page's (width, height) in PDF points."""

        def measure() -> list[tuple[float, float]]:
            with PDFIUM_LOCK:
                pdf = pdfium.PdfDocument(path)
                try:
                    return [pdf[index].get_size() for index in range(len(pdf))]
                finally:
                    pdf.close()

        return self.sizes.get(path, measure)

    def page_png(self, path: str, page: int) -> bytes:
        return self.pages.get((path, page), lambda: _render(path, page))


def _render(path: str, page: int) -> bytes:
    with PDFIUM_LOCK:
        pdf = pdfium.PdfDocument(path)
        try:
            image = pdf[page - 1].render(scale=PAGE_SCALE).to_pil()
        finally:
            pdf.close()
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@dataclass
class Config:
    store: Path
    reviewer: str | None = None  # --reviewer; else each browser's reviewer names themself on first visit
    token: str | None = None  # required of every request where the server listens beyond loopback
    gold: Path | None = None  # where the promote button writes gold files
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))


@dataclass
class State:
    config: Config
    templates: Jinja2Templates
    sources: Sources = field(default_factory=Sources)
    stores: threading.local = field(default_factory=threading.local)

    @property
    def store(self) -> Store:
        """The store, opened once per server thread (its connections are per thread)."""
        store = getattr(self.stores, "store", None)
        if store is None:
            store = self.stores.store = Store(self.config.store)
        return store

    def reviewer(self, request: Request) -> str | None:
        return self.config.reviewer or unquote(request.cookies.get(REVIEWER_COOKIE, "")) or None


def reviewer_cookie(response: Response, name: str) -> None:
    """The name a reviewer gave, kept by their browser (percent-encoded: a cookie holds ASCII)."""
    response.set_cookie(REVIEWER_COOKIE, quote(name), httponly=True, samesite="strict")


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


class Guard(BaseHTTPMiddleware):
    """The access token (where one is set), the CSRF token on every state-changing request, and the headers."""

    async def dispatch(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        config: Config = request.app.state.review.config
        if config.token:
            given = request.query_params.get("token")
            if _same(given, config.token):
                response: Response = RedirectResponse(request.url.remove_query_params("token"), status_code=303)
                response.set_cookie(TOKEN_COOKIE, config.token, httponly=True, samesite="strict")
                return _secured(response)
            if not _same(request.cookies.get(TOKEN_COOKIE), config.token):
                return _secured(PlainTextResponse("open the address printed by `nianbao review serve`", 401))
        if request.method not in SAFE_METHODS and not _same(request.headers.get(CSRF_HEADER), config.csrf):
            return _secured(PlainTextResponse("refused: this request carries no valid CSRF token", 403))
        return _secured(await call_next(request))


def _secured(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def create_app(config: Config, hosts: tuple[str, ...] = LOOPBACK) -> Starlette:
    """The app for `config`; `hosts` are the Host headers it answers (loopback names by default, so a web page
    elsewhere cannot reach it by rebinding a name of its own to 127.0.0.1)."""
    from extractor.web.routes import ROUTES

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, undefined=jinja2.StrictUndefined
    )
    app = Starlette(
        routes=[*ROUTES, Mount("/static", StaticFiles(directory=HERE / "static"), name="static")],
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=list(hosts)), Middleware(Guard)],
    )
    app.state.review = State(config, Jinja2Templates(env=environment))
    Store(config.store)  # opened (checked, migrated) before the first request: a bad store fails the start
    return app
