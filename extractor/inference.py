"""Calling an OpenAI-compatible endpoint through instructor, with two kinds of retry kept apart.

- Transient faults (timeouts, 429, 5xx, dropped connections) are retried here with
  tenacity: exponential backoff with jitter, honouring Retry-After. The model never sees them.
  Every request, retry and wait ends by the report's deadline, whatever the server does.
- An answer that does not fit the schema (malformed JSON, wrong shape) gets one
  re-ask from instructor. Whether the numbers are right is not decided here: the
  verifier decides, and `extractor/llm.py` re-asks.

Every HTTP exchange is logged to the store; answers are cached by everything that shapes them.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import instructor
import openai
from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException
from pydantic import BaseModel, ValidationError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    retry_if_exception_type,
    stop_after_attempt,
    stop_any,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base

from extractor.settings import Settings
from extractor.store import Store
from prompts import Prompt
from schemas.answers import schema_version
from schemas.result import Attempt

MODES = {
    "tools": instructor.Mode.TOOLS,
    "json_schema": instructor.Mode.JSON_SCHEMA,
    "json": instructor.Mode.JSON,
    "md_json": instructor.Mode.MD_JSON,
}
_TRANSIENT_STATUS = {408, 409, 429, 500, 502, 503, 504}
_SCHEMA_RETRIES = Retrying(
    stop=stop_after_attempt(2), retry=retry_if_exception_type((ValidationError, json.JSONDecodeError)), reraise=True
)


def _api_error(error: BaseException) -> BaseException:
    """instructor wraps API errors raised during its own attempts; this unwraps them."""
    if isinstance(error, InstructorRetryException) and error.__cause__ is not None:
        return error.__cause__
    return error


def is_transient(error: BaseException) -> bool:
    error = _api_error(error)
    if isinstance(error, openai.APITimeoutError | openai.APIConnectionError):
        return True
    return isinstance(error, openai.APIStatusError) and error.status_code in _TRANSIENT_STATUS


def _retry_after(error: BaseException) -> float | None:
    response = getattr(_api_error(error), "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


class PerMinute:
    """A budget of `limit` units a minute, refilled continuously; `take` waits until there is enough."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.level = float(limit or 0)
        self.updated = time.monotonic()
        self.lock = threading.Lock()

    def take(self, amount: float) -> None:
        if not self.limit:
            return
        amount = min(amount, self.limit)
        while True:
            with self.lock:
                now = time.monotonic()
                self.level = min(self.limit, self.level + (now - self.updated) * self.limit / 60)
                self.updated = now
                if self.level >= amount:
                    self.level -= amount
                    return
                wait = (amount - self.level) * 60 / self.limit
            time.sleep(wait)


class LLM:
    def __init__(self, settings: Settings, store: Store, backoff: float = 1.0) -> None:
        key = settings.api_key
        self.settings = settings
        self.store = store
        self.backoff = backoff  # seconds: the first transient wait, doubled each time (with jitter)
        raw = openai.OpenAI(
            base_url=settings.base_url,
            api_key=key.get_secret_value() if key else "not-needed",  # local servers take no key
            timeout=settings.timeout,
            max_retries=0,  # transient faults are retried below, where they are logged
        )
        self.client = instructor.from_openai(raw, mode=MODES[settings.mode])
        self._local = threading.local()  # the call under way, per thread: runs ask from many threads
        self.requests = PerMinute(settings.requests_per_minute)
        self.tokens = PerMinute(settings.tokens_per_minute)
        self.client.on("completion:kwargs", self._on_request)
        self.client.on("completion:response", self._on_response)
        self.client.on("completion:error", self._on_error)
        self.client.on("parse:error", self._on_parse_error)
        self.observers: list[Callable[[str, Attempt], None]] = []  # told of every call as it ends: (source, call)

    @property
    def _calling(self) -> dict[str, Any]:
        return self._local.__dict__.setdefault("calling", {})

    @_calling.setter
    def _calling(self, value: dict[str, Any]) -> None:
        self._local.calling = value

    # The hooks see every HTTP exchange, including instructor's own schema re-asks. A response
    # is logged once its fate is known: parsed (ok), refused by the schema (invalid) or cut off.
    def _on_request(self, *args: Any, **kwargs: Any) -> None:
        # The schema itself is not logged: the exchange's schema_version names it.
        wanted = ("messages", "model", "temperature", "max_tokens")
        request = {k: v for k, v in kwargs.items() if k in wanted}
        self.requests.take(1)  # the endpoint's rate limits, before the request goes out
        if self.tokens.limit:  # a rough count: about two characters a token, plus the answer's allowance
            sent = json.dumps([kwargs.get("messages"), kwargs.get("tools")], ensure_ascii=False, default=str)
            self.tokens.take(len(sent) / 2 + self.settings.max_tokens)
        self._calling.update(request=request, started=time.perf_counter())

    def _on_response(self, response: Any) -> None:
        self._calling["response"] = response

    def _on_parse_error(self, error: Exception, *args: Any, **kwargs: Any) -> None:
        self._log_exchange("invalid", self._describe(error))

    def _on_error(self, error: Exception, *args: Any, **kwargs: Any) -> None:
        self._log_exchange("transient" if is_transient(error) else "failed", self._describe(error))

    def _log_exchange(self, outcome: str, error: str | None = None) -> None:
        response = self._calling.pop("response", None)
        usage = getattr(response, "usage", None)
        tokens_in = getattr(usage, "prompt_tokens", 0) or 0
        tokens_out = getattr(usage, "completion_tokens", 0) or 0
        latency = (time.perf_counter() - self._calling["started"]) * 1000
        call: Attempt = self._calling["call"]
        call.http_calls += 1
        call.tokens_in += tokens_in
        call.tokens_out += tokens_out
        call.latency_ms += latency
        self.store.log(
            **self._calling["context"],
            request=self._calling.get("request"),
            response=response.model_dump() if hasattr(response, "model_dump") else None,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            latency_ms=latency,
            outcome=outcome,
            error=error,
        )

    def _describe(self, error: BaseException) -> str:
        return self.settings.scrub(f"{type(error).__name__}: {error}")[:500]

    def ask(
        self,
        prompt: Prompt,
        context: dict[str, Any],
        answer: type[BaseModel],
        *,
        source: str,
        sha256: str,
        step: str,
        round: int,
        deadline: float | None = None,
    ) -> tuple[BaseModel | None, Attempt]:
        """The validated answer (or None when it could not be had), and what the call took. `deadline` is a
        `time.monotonic()` moment after which no request is made and none is waited for."""
        answered, call = self._ask(
            prompt, context, answer, source=source, sha256=sha256, step=step, round=round, deadline=deadline
        )
        for observer in self.observers:
            observer(source, call)
        return answered, call

    def _ask(
        self,
        prompt: Prompt,
        context: dict[str, Any],
        answer: type[BaseModel],
        *,
        source: str,
        sha256: str,
        step: str,
        round: int,
        deadline: float | None,
    ) -> tuple[BaseModel | None, Attempt]:
        call = Attempt(step=step, round=round, outcome="failed")  # summed over the HTTP exchanges it takes
        model = self.settings.model or "default"
        key = self._cache_key(prompt, context, answer, sha256)
        logged = {
            "source": source,
            "sha256": sha256,
            "step": step,
            "round": round,
            "model": model,
            "prompt_version": prompt.id,
            "schema_version": schema_version(answer),
            "cache_key": key,
        }
        if hit := self.store.cached(key):
            self.store.log(**logged, outcome="cached", tokens_in=0, tokens_out=0, latency_ms=0)
            call.outcome = "cached"
            return answer.model_validate(hit[0]), call
        if deadline is not None and deadline <= time.monotonic():
            call.outcome, call.error = "deadline", "the report's deadline had passed"
            return None, call
        self._calling = {"call": call, "context": logged, "started": time.perf_counter()}
        try:
            parsed = self._with_transient_retries(prompt, context, answer, model, call, logged, deadline)
        except IncompleteOutputException:
            call.outcome, call.error = "truncated", "the answer was cut off (finish_reason=length)"
            self._log_exchange("truncated", call.error)
            return None, call
        except Exception as error:  # any failure ends this call; the report is flagged, not crashed
            call.outcome = "transient" if is_transient(error) else "invalid" if _is_invalid(error) else "failed"
            call.error = self._describe(_api_error(error))
            return None, call
        call.outcome = "ok"
        self._log_exchange("ok")
        self.store.remember(key, parsed.model_dump(mode="json", by_alias=True), call.tokens_in, call.tokens_out)
        return parsed, call

    def _with_transient_retries(
        self,
        prompt: Prompt,
        context: dict[str, Any],
        answer: type[BaseModel],
        model: str,
        call: Attempt,
        logged: dict[str, Any],
        deadline: float | None,
    ) -> BaseModel:
        def left() -> float:
            return self.settings.timeout if deadline is None else max(0.0, deadline - time.monotonic())

        retrying = Retrying(
            stop=stop_any(stop_after_attempt(self.settings.transient_retries + 1), _Past(left)),
            retry=retry_if_exception(is_transient),
            wait=lambda state: min(self._wait(state), left()),
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                self._calling.update(call=call, context=logged)
                return self.client.chat.completions.create(
                    timeout=max(0.001, min(self.settings.timeout, left())),
                    model=model,
                    # A fresh list every time: instructor has mutated the caller's messages in place.
                    messages=prompt.messages(context),
                    response_model=answer,
                    max_retries=_SCHEMA_RETRIES.copy(),
                    temperature=self.settings.temperature,
                    max_tokens=self.settings.max_tokens,
                )
        raise AssertionError("unreachable")

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        retry_after = _retry_after(error) if error else None
        if retry_after is not None:
            return min(retry_after, 60.0)
        return wait_exponential_jitter(multiplier=self.backoff, max=30 * self.backoff, jitter=self.backoff)(state)

    def _cache_key(self, prompt: Prompt, context: dict[str, Any], answer: type[BaseModel], sha256: str) -> str:
        parts = {
            "document": sha256,
            "prompt": prompt.id,
            "schema": schema_version(answer),
            "model": self.settings.model,
            "base_url": self.settings.base_url,
            "mode": self.settings.mode,
            "temperature": self.settings.temperature,
            "max_tokens": self.settings.max_tokens,
            "context": context,
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


class _Past(stop_base):
    """Stop retrying once no time is left before the report's deadline."""

    def __init__(self, left: Callable[[], float]) -> None:
        self.left = left

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.left() <= 0


def _is_invalid(error: BaseException) -> bool:
    return isinstance(error, InstructorRetryException | ValidationError | json.JSONDecodeError)
