"""The review app's pages and requests: the queue, one report beside its source, and the reviewer's decisions.

Every edit is recorded in the store's append-only review table and answered with the draft re-verified, so the
page updates cell states and findings without a reload. Decisions go through `extractor.review`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from extractor import review
from extractor.promote import promote
from extractor.web.app import State, reviewer_cookie
from extractor.web.grids import cell_states, grids, relation_rows, segments
from schemas.flat import label

Body = dict[str, Any]
Handler = Callable[[Request, Body], Response]
_NAME = re.compile(r"^[^\x00-\x1f<>]{1,60}$")  # a reviewer's name: one short line


def _state(request: Request) -> State:
    state: State = request.app.state.review
    return state


def _result_id(request: Request) -> int:
    return int(request.path_params["result_id"])


def _draft(request: Request) -> review.Draft:
    state = _state(request)
    path, machine = review.stored_result(state.store, _result_id(request))
    return review.draft(state.store, _result_id(request), state.sources.document(path, machine))


def _problem(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """`handler(request, body)` as an endpoint: the JSON body of a POST read first, the handler's work (the store,
    the verifier, pdfium, all blocking) run in a worker thread, and a bad request (an unknown result, a value that
    is no number, a body that is no JSON object) answered 404 or 400 with its reason."""

    async def run(request: Request) -> Response:
        try:
            body = await _body(request) if request.method == "POST" else {}
            response: Response = await run_in_threadpool(handler, request, body)
            return response
        except review.ReviewError as error:
            return _problem(str(error), 404 if isinstance(error, review.NoSuchResult) else 400)

    return run


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    state = _state(request)
    context = {"csrf": state.config.csrf, "reviewer": state.reviewer(request) or "", **context}
    return state.templates.TemplateResponse(request, name, context, status_code=status)


# Pages ---------------------------------------------------------------------------------------------------------


def queue_page(request: Request, body: Body) -> Response:
    state = _state(request)
    if not state.reviewer(request):
        return RedirectResponse("/reviewer", status_code=303)
    wanted = {name: request.query_params.get(name, "").strip() for name in review.FILTERS}
    entries = review.pending(state.store, wanted)
    done, left = review.progress(state.store)
    return _page(request, "queue.html", {"entries": entries, "wanted": wanted, "done": done, "left": left})


def reviewer_page(request: Request, body: Body) -> Response:
    return _page(request, "reviewer.html", {})


def report_page(request: Request, body: Body) -> Response:
    state = _state(request)
    if not state.reviewer(request):
        return RedirectResponse("/reviewer", status_code=303)
    draft = _draft(request)
    document = state.sources.document(draft.path, draft.machine)
    order = [entry.result_id for entry in review.pending(state.store)]
    newest = state.store.newest(draft.result_id)
    context = {
        "draft": draft,
        "machine": draft.machine,
        "format": document.format,
        "grids": grids(draft.machine.template) if draft.machine.template else [],
        "segments": segments(document.text),
        "pages": _pages(state, draft, document.format),
        "state_json": json.dumps(_report_state(draft, newest[1] if newest else "?"), ensure_ascii=False),
        "previous": _neighbour(order, draft.result_id, -1),
        "next": _neighbour(order, draft.result_id, +1),
        "gold": str(state.config.gold) if state.config.gold else "",
    }
    return _page(request, "report.html", context)


def _pages(state: State, draft: review.Draft, format: str) -> list[dict[str, Any]]:
    if format != "pdf":
        return []
    sizes = state.sources.page_sizes(draft.path)
    return [{"number": n, "width": w, "height": h} for n, (w, h) in enumerate(sizes, start=1)]


def _neighbour(order: list[int], result_id: int, step: int) -> int | None:
    if result_id not in order:
        return order[0] if order and step > 0 else None
    index = order.index(result_id) + step
    return order[index] if 0 <= index < len(order) else None


def page_image(request: Request, body: Body) -> Response:
    """A page of a PDF source as PNG: the source is the one the store records for this result, nothing else."""
    state = _state(request)
    path, machine = review.stored_result(state.store, _result_id(request))
    document = state.sources.document(path, machine)
    page = int(request.path_params["page"])
    if document.format != "pdf" or not 1 <= page <= len(state.sources.page_sizes(path)):
        return Response("no such page", status_code=404, media_type="text/plain")
    return Response(state.sources.page_png(path, page), media_type="image/png")


# The report's state, as the page shows it -----------------------------------------------------------------------


def _report_state(draft: review.Draft, status: str) -> dict[str, Any]:
    result = draft.result
    states = cell_states(result, draft.relation_ids, draft.inconsistencies)
    cells = {}
    for key, value in result.fields.items():
        source = result.provenance.get(key)
        cells[key] = {
            "value": "" if value is None else str(value),
            "state": states[key],
            "corrected": key in draft.corrected,
            "label": label(key),
            "start": source.start if source else None,
            "end": source.end if source else None,
            "page": source.page if source else None,
            "bbox": getattr(source, "bbox", None),  # PDF points, top-left origin, where ingest records them
        }
    findings = [
        finding.model_dump(include={"rule", "severity", "blame", "zh", "en", "cells"}) for finding in result.findings
    ]
    return {
        "id": draft.result_id,
        "status": result.status,
        "stored": status,
        "errors": sum(finding.severity == "error" for finding in result.findings),
        "cells": cells,
        "findings": findings,
        "relations": relation_rows(draft.machine, result, draft.relation_ids, draft.inconsistencies),
    }


async def _body(request: Request) -> Body:
    """A POST's JSON object; an empty body is an empty one."""
    if not (await request.body()).strip():
        return {}
    try:
        body = await request.json()
    except ValueError as error:
        raise review.ReviewError("the request body is not JSON") from error
    if not isinstance(body, dict):
        raise review.ReviewError("the request body is not a JSON object")
    return body


def _who(request: Request) -> str:
    reviewer = _state(request).reviewer(request)
    if not reviewer:
        raise review.ReviewError("say who you are first (open /reviewer)")
    return reviewer


def _text(body: Body, name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise review.ReviewError(f"{name} must be text")
    return value


def state_of(request: Request, body: Body) -> Response:
    draft = _draft(request)
    newest = _state(request).store.newest(draft.result_id)
    return JSONResponse(_report_state(draft, newest[1] if newest else "?"))


def correct_cell(request: Request, body: Body) -> Response:
    """One cell's correction, recorded, and the draft re-verified."""
    key = _text(body, "key") or ""
    review.correct(_state(request).store, _result_id(request), _who(request), key, _text(body, "value"))
    return state_of(request, body)


def mark_inconsistency(request: Request, body: Body) -> Response:
    relation = _text(body, "relation") or ""
    marked = body.get("marked") is not False
    review.mark_inconsistency(_state(request).store, _result_id(request), _who(request), relation, marked)
    return state_of(request, body)


def decide(request: Request, body: Body) -> Response:
    """accept, reject or skip; answered with the report's new state and where to go next."""
    state = _state(request)
    decision, note, result_id = _text(body, "decision"), _text(body, "note"), _result_id(request)
    who = _who(request)
    if decision == "accept":
        path, machine = review.stored_result(state.store, result_id)
        review.accept(state.store, result_id, who, state.sources.document(path, machine), note)
    elif decision == "reject":
        review.reject(state.store, result_id, who, note)
    elif decision == "skip":
        state.store.review(result_id, who, "skip", note=note)
    else:
        raise review.ReviewError("decision must be accept, reject or skip")
    order = [entry.result_id for entry in review.pending(state.store)]
    following = next((other for other in order if other != result_id), None)
    return JSONResponse({"decision": decision, "next": f"/report/{following}" if following else "/"})


def promote_report(request: Request, body: Body) -> Response:
    state = _state(request)
    if state.config.gold is None:
        raise review.ReviewError("no gold folder: start the server with --gold DIR")
    path = promote(state.store, _result_id(request), state.config.gold, _who(request))
    return JSONResponse({"gold": str(path)})


def set_reviewer(request: Request, body: Body) -> Response:
    name = str(body.get("name", "")).strip()
    if not _NAME.match(name):
        return _problem("a reviewer's name is one line of up to 60 characters, without < or >")
    response = JSONResponse({"reviewer": name})
    reviewer_cookie(response, name)
    return response


ROUTES = [
    Route("/", endpoint(queue_page)),
    Route("/reviewer", endpoint(reviewer_page)),
    Route("/reviewer", endpoint(set_reviewer), methods=["POST"]),
    Route("/report/{result_id:int}", endpoint(report_page)),
    Route("/report/{result_id:int}/state", endpoint(state_of)),
    Route("/report/{result_id:int}/page/{page:int}.png", endpoint(page_image)),
    Route("/report/{result_id:int}/cell", endpoint(correct_cell), methods=["POST"]),
    Route("/report/{result_id:int}/inconsistency", endpoint(mark_inconsistency), methods=["POST"]),
    Route("/report/{result_id:int}/decision", endpoint(decide), methods=["POST"]),
    Route("/report/{result_id:int}/promote", endpoint(promote_report), methods=["POST"]),
]
