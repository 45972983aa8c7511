"""The demo page and its JSON API.

Writes are all-or-nothing and every rejected request gets a JSON error naming the offending field.
"""
from __future__ import annotations

import functools
import json
import logging
import random
import re

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.shortcuts import render

from transactions import local_flags, scenarios
from transactions.api_errors import json_error
from transactions.models import UserTransaction
from transactions.services import CustomerPool, NoCustomers, customers, record, record_for_random_customer

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
FRAUD_FIELDS = ("type", "username")

# This process's customers to pick from at random; re-read every CUSTOMER_REFRESH_SECONDS at most.
customer_pool = CustomerPool(max_age=settings.CUSTOMER_REFRESH_SECONDS)

SCENARIO_TEXT = {
    "burst_count": (
        "Burst count",
        f"{scenarios.BURST_COUNT} small transactions for one customer "
        f"(limit: {scenarios.MAX_TRANSACTION_COUNT} in {scenarios.WINDOW_MINUTES} min)",
    ),
    "burst_amount": (
        "Burst amount",
        f"Transactions of {scenarios.BURST_AMOUNT_RANGE[0]}–{scenarios.BURST_AMOUNT_RANGE[1]} adding up to "
        f"more than {scenarios.MAX_TOTAL_AMOUNT} within {scenarios.WINDOW_MINUTES} min",
    ),
    "large_amount": ("Large amount", f"One transaction above {scenarios.MAX_TOTAL_AMOUNT}"),
    "foreign_ip": ("Foreign IP", "A small amount from an address outside the allow list"),
}


class BadRequest(Exception):
    def __init__(self, field: str, message: str, **extra: object):
        super().__init__(message)
        self.field, self.message, self.extra = field, message, extra


def allow(*methods: str):
    """Like require_http_methods, with a JSON 405 body, and BadRequest/DB errors turned into JSON."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if request.method not in methods:
                response = json_error(f"method {request.method} not allowed; use {', '.join(methods)}", 405)
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, *args, **kwargs)
            except BadRequest as exc:
                return json_error(exc.message, 400, field=exc.field, **exc.extra)
            except NoCustomers as exc:
                return json_error(str(exc), 409)
            except DatabaseError as exc:
                logger.error("database error in %s: %s", view.__name__, type(exc).__name__)
                return json_error(f"database unavailable ({type(exc).__name__}); nothing was written", 503)

        return wrapper

    return decorate


def _serialize(row: UserTransaction) -> dict:
    return {
        "id": row.id,
        "username": row.account.username,
        "amount": f"{row.amount:.2f}",
        "ip_address": row.ip_address,
        "received_at": row.received_at.isoformat(),
    }


def _limit(request: HttpRequest) -> int:
    raw = request.GET.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if not re.fullmatch(r"[0-9]+", raw) or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadRequest("limit", f"limit must be a whole number from 1 to {MAX_LIMIT}, got {raw!r}")
    return int(raw)


def _json_object(request: HttpRequest) -> dict:
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("body", 'request body must be a JSON object, e.g. {"type": "burst_count"}') from None
    except RecursionError:  # json's decoder recurses once per nesting level
        raise BadRequest("body", "request body is nested too deeply; send a flat JSON object") from None
    if not isinstance(data, dict):
        raise BadRequest("body", f"request body must be a JSON object, got {type(data).__name__}")
    return data


def _only(data: dict, fields: tuple[str, ...]) -> dict:
    unknown = sorted(set(data) - set(fields))
    if unknown:
        expected = ", ".join(fields) or "no fields"
        raise BadRequest(unknown[0], f"unknown field {unknown[0]!r}; expected: {expected}")
    return data


@allow("GET")
def index(request: HttpRequest):
    return render(request, "transactions/index.html", {
        "stream_interval_ms": settings.STREAM_INTERVAL_MS,
        "local_flags": local_flags.results_dir() is not None,
        "scenarios": [
            {"type": fraud_type, "label": SCENARIO_TEXT[fraud_type][0], "description": SCENARIO_TEXT[fraud_type][1]}
            for fraud_type in scenarios.FRAUD_TYPES
        ],
    })


@allow("GET")
def recent_transactions(request: HttpRequest) -> JsonResponse:
    rows = UserTransaction.objects.select_related("account").order_by("-id")[: _limit(request)]
    return JsonResponse({"transactions": [_serialize(row) for row in rows]})


@allow("POST")
def stream_transaction(request: HttpRequest) -> JsonResponse:
    """One normal transaction for a random customer; the body is empty or {}."""
    if request.body:
        _only(_json_object(request), ())
    rng = random.Random()
    _, (row,) = record_for_random_customer(customer_pool, rng, [scenarios.normal_transaction(rng)])
    return JsonResponse({"transaction": _serialize(row)}, status=201)


@allow("POST")
def simulate_fraud(request: HttpRequest) -> JsonResponse:
    """The transactions of one fraud scenario, for one customer (named, or random)."""
    data = _only(_json_object(request), FRAUD_FIELDS)
    fraud_type = data.get("type")
    if fraud_type not in scenarios.FRAUD_TYPES:  # also catches a missing or non-string type
        raise BadRequest(
            "type",
            f"type must be one of: {', '.join(scenarios.FRAUD_TYPES)}; got {fraud_type!r}",
            valid_types=list(scenarios.FRAUD_TYPES),
        )
    username = data.get("username")
    if username is not None and not isinstance(username, str):
        raise BadRequest("username", f"username must be a string, got {type(username).__name__}")

    rng = random.Random()
    specs = scenarios.fraud_transactions(fraud_type, rng)
    if username:
        account = customers().filter(username=username).first()
        if account is None:
            raise BadRequest("username", f"no customer account named {username!r}")
        rows = record(account, specs)
    else:
        account, rows = record_for_random_customer(customer_pool, rng, specs)
    return JsonResponse(
        {"type": fraud_type, "username": account.username, "transactions": [_serialize(row) for row in rows]},
        status=201,
    )
