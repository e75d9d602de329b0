"""A small fake of Stripe's PaymentIntent and Refund API, on 127.0.0.1, for the real stripe SDK.

It keeps intents in memory, honours `Idempotency-Key` the way Stripe does (the same key replays
the first answer and runs nothing again), records every request it receives with its key, and
can hold back an answer after doing the work (a capture whose answer is lost on the way back)
or fail a request before doing anything.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class RecordedRequest:
    method: str
    path: str
    params: dict[str, str]
    idempotency_key: str | None
    replayed: bool
    status: int = 0


@dataclass
class Fault:
    path_suffix: str
    delay_seconds: float = 0.0  # after doing the work, before answering
    fail_status: int = 0  # answer this instead of doing the work
    remaining: int = 1


@dataclass
class FakeStripe:
    server: ThreadingHTTPServer | None = None
    thread: threading.Thread | None = None
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    # idempotency key → (status, body)
    answers: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    # operations actually carried out (not replays): ("capture", intent id), ...
    operations: list[tuple[str, str]] = field(default_factory=list)

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    # --- test controls ---------------------------------------------------------------------
    def authorize(self, intent_id: str) -> dict[str, Any]:
        """The asker's card step succeeded: the intent waits for capture."""
        with self.lock:
            intent = self.intents[intent_id]
            intent["status"] = "requires_capture"
            intent["amount_capturable"] = intent["amount"]
            intent["payment_method"] = "pm_card_visa"
            return dict(intent)

    def hold_answer(self, path_suffix: str, seconds: float, times: int = 1) -> None:
        with self.lock:
            self.faults.append(Fault(path_suffix, delay_seconds=seconds, remaining=times))

    def fail(self, path_suffix: str, status: int = 500, times: int = 1) -> None:
        with self.lock:
            self.faults.append(Fault(path_suffix, fail_status=status, remaining=times))

    def operations_of(self, kind: str) -> list[str]:
        with self.lock:
            return [ref for op, ref in self.operations if op == kind]

    def requests_to(self, path_suffix: str) -> list[RecordedRequest]:
        with self.lock:
            return [r for r in self.requests if r.path.endswith(path_suffix)]

    # --- the API -----------------------------------------------------------------------------
    def handle(
        self, method: str, path: str, params: dict[str, str], key: str | None
    ) -> tuple[int, dict[str, Any], float]:
        with self.lock:
            record = RecordedRequest(method, path, params, key, replayed=False)
            self.requests.append(record)
            fault = next(
                (f for f in self.faults if f.remaining > 0 and path.endswith(f.path_suffix)), None
            )
            if fault is not None:
                fault.remaining -= 1
            if fault is not None and fault.fail_status:
                record.status = fault.fail_status
                return fault.fail_status, _error("api_error", "simulated outage"), 0.0
            if method == "POST" and key and key in self.answers:
                record.replayed = True
                status, body = self.answers[key]
                record.status = status
                return status, body, fault.delay_seconds if fault else 0.0
            status, body = self._route(method, path, params)
            if method == "POST" and key:
                self.answers[key] = (status, body)
            record.status = status
            return status, body, fault.delay_seconds if fault else 0.0

    def _route(self, method: str, path: str, params: dict[str, str]) -> tuple[int, dict]:
        parts = path.strip("/").split("/")
        if parts[:2] == ["v1", "payment_intents"]:
            if method == "POST" and len(parts) == 2:
                return self._create(params)
            intent = self.intents.get(parts[2]) if len(parts) > 2 else None
            if intent is None:
                return 404, _error("invalid_request_error", "No such payment_intent")
            if method == "GET" and len(parts) == 3:
                return 200, dict(intent)
            if method == "POST" and parts[3:] == ["capture"]:
                return self._capture(intent, params)
            if method == "POST" and parts[3:] == ["cancel"]:
                return self._cancel(intent, params)
        if parts[:2] == ["v1", "refunds"] and method == "POST" and len(parts) == 2:
            return self._refund(params)
        return 404, _error("invalid_request_error", f"Unrecognized request URL ({path})")

    def _create(self, params: dict[str, str]) -> tuple[int, dict]:
        if params.get("capture_method") != "manual":
            return 400, _error("invalid_request_error", "this fake only does manual capture")
        intent_id = f"pi_{secrets.token_hex(12)}"
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": int(params["amount"]),
            "amount_capturable": 0,
            "amount_received": 0,
            "currency": params["currency"],
            "capture_method": "manual",
            "client_secret": f"{intent_id}_secret_{secrets.token_hex(8)}",
            "status": "requires_payment_method",
            "metadata": {
                k[len("metadata[") : -1]: v for k, v in params.items() if k.startswith("metadata[")
            },
            "created": int(time.time()),
            "livemode": False,
        }
        self.intents[intent_id] = intent
        self.operations.append(("create", intent_id))
        return 200, dict(intent)

    def _capture(self, intent: dict, params: dict[str, str]) -> tuple[int, dict]:
        if intent["status"] != "requires_capture":
            return 400, _error(
                "invalid_request_error",
                f"This PaymentIntent could not be captured because it has a status of "
                f"{intent['status']}.",
                code="payment_intent_unexpected_state",
            )
        amount = int(params.get("amount_to_capture", intent["amount"]))
        intent.update(status="succeeded", amount_capturable=0, amount_received=amount)
        self.operations.append(("capture", intent["id"]))
        return 200, dict(intent)

    def _cancel(self, intent: dict, params: dict[str, str]) -> tuple[int, dict]:
        if intent["status"] in ("succeeded", "canceled"):
            return 400, _error(
                "invalid_request_error",
                f"You cannot cancel this PaymentIntent because it has a status of "
                f"{intent['status']}.",
                code="payment_intent_unexpected_state",
            )
        intent.update(
            status="canceled",
            amount_capturable=0,
            cancellation_reason=params.get("cancellation_reason"),
        )
        self.operations.append(("cancel", intent["id"]))
        return 200, dict(intent)

    def _refund(self, params: dict[str, str]) -> tuple[int, dict]:
        intent = self.intents.get(params.get("payment_intent", ""))
        if intent is None:
            return 404, _error("invalid_request_error", "No such payment_intent")
        if intent["status"] != "succeeded":
            return 400, _error("invalid_request_error", "This PaymentIntent has not been captured.")
        refund_id = f"re_{secrets.token_hex(12)}"
        refund = {
            "id": refund_id,
            "object": "refund",
            "amount": int(params.get("amount", intent["amount_received"])),
            "currency": intent["currency"],
            "payment_intent": intent["id"],
            "status": "succeeded",
            "reason": params.get("reason"),
        }
        self.refunds[refund_id] = refund
        self.operations.append(("refund", intent["id"]))
        return 200, dict(refund)

    # --- lifecycle ------------------------------------------------------------------------------
    def start(self) -> FakeStripe:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                path, _, query = self.path.partition("?")
                params = dict(parse_qsl(raw or query, keep_blank_values=True))
                if not (self.headers.get("Authorization") or "").startswith("Bearer sk_test_"):
                    status, body, delay = 401, _error("invalid_request_error", "bad key"), 0.0
                else:
                    status, body, delay = fake.handle(
                        method, path, params, self.headers.get("Idempotency-Key")
                    )
                if delay:
                    time.sleep(delay)
                payload = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.send_header("Request-Id", f"req_{secrets.token_hex(6)}")
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting: the answer is lost, the work is done

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def _error(kind: str, message: str, code: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"type": kind, "message": message}
    if code:
        error["code"] = code
    return {"error": error}
