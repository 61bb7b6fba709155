#!/usr/bin/env python3
"""Holds real responses of a running TopCoins API against oas.yaml.

Usage: openapi_conformance.py BASE_URL [oas.yaml]

Every request below must get a status the spec declares for that operation, carry the
response headers it marks required, and have a body valid against the declared schema
(JSON) or of the declared media type. Exits non-zero, listing each mismatch, if any fails.
"""
import json
import sys
import urllib.error
import urllib.request

import yaml
from openapi_schema_validator import OAS30Validator

base = sys.argv[1].rstrip("/")
spec = yaml.safe_load(open(sys.argv[2] if len(sys.argv) > 2 else "oas.yaml"))


def resolve(node):
    """The spec with every local $ref replaced by what it points to."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = spec
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return resolve(target)
        return {key: resolve(value) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve(item) for item in node]
    return node


paths = resolve(spec["paths"])


class NoRedirect(urllib.request.HTTPErrorProcessor):
    def http_response(self, request, response):
        return response


opener = urllib.request.build_opener(NoRedirect)


def fetch(method, path, headers):
    request = urllib.request.Request(base + path, method=method, headers=headers)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def check(method, path, headers=None):
    problems = []
    status, response_headers, body = fetch(method, path, headers or {})
    route = path.split("?")[0]
    operation = paths.get(route, {}).get(method.lower())
    if operation is None:
        # Undeclared: an unknown path is 404 not_found, another method 405 with Allow.
        error = json.loads(body).get("error", {})
        if route not in paths and status == 404 and error.get("code") == "not_found":
            return status, []
        if route in paths and status == 405 and error.get("code") == "method_not_allowed" and response_headers.get("Allow") == "GET, HEAD":
            return status, []
        return status, [f"{method} {path}: not in the spec, and not the 404/405 the spec describes: {status}"]
    declared = operation["responses"].get(str(status)) or operation["responses"].get("default")
    if declared is None:
        return status, [f"{method} {path}: status {status} is not declared ({sorted(operation['responses'])})"]
    for name, header in declared.get("headers", {}).items():
        if header.get("required") and response_headers.get(name) is None:
            problems.append(f"{method} {path}: {status} lacks required header {name}")
    content = declared.get("content")
    if method == "HEAD" or status == 304:
        if body:
            problems.append(f"{method} {path}: {status} has a body")
        return status, problems
    if not content:
        return status, problems
    media = (response_headers.get("Content-Type") or "").split(";")[0].strip()
    if media not in content:
        return status, problems + [f"{method} {path}: media type {media} not declared ({sorted(content)})"]
    schema = content[media].get("schema")
    if media == "application/json" and schema:
        validator = OAS30Validator(schema)
        for error in validator.iter_errors(json.loads(body)):
            problems.append(f"{method} {path}: {status} body: {error.message} at {list(error.absolute_path)}")
    # The header line is the one the operation's CSV example opens with.
    example = content[media].get("example")
    header = (example if isinstance(example, str) else "Rank,Symbol,Price USD").split("\r\n")[0] + "\r\n"
    if media == "text/csv" and not body.startswith(header.encode()):
        problems.append(f"{method} {path}: CSV does not start with the header line {header.strip()}")
    return status, problems


_, _, first = fetch("GET", "/?limit=1", {})
timestamp = json.loads(first)["timestamp"]
_, first_headers, _ = fetch("GET", "/?limit=1", {})
etag = first_headers.get("ETag")
requests = [
    ("GET", "/", None), ("GET", "/?limit=200&format=csv", None), ("GET", "/?limit=5000", None),
    ("GET", "/?limit=3&format=CSV", None), ("GET", "/?limit=3", {"Accept": "text/csv"}),
    ("GET", f"/?limit=2&datetime={timestamp}", None), ("GET", "/?datetime=2000-01-01", None),
    ("GET", "/?datetime=2999-01-01", None), ("GET", "/?datetime=junk", None), ("GET", "/?limit=0", None),
    ("GET", "/?limit=abc", None), ("GET", "/?format=xml", None), ("GET", "/?limit=1&limit=2", None),
    ("GET", "/?limit=1", {"If-None-Match": etag}), ("HEAD", "/?limit=5", None),
    ("POST", "/", None), ("PUT", "/", None), ("DELETE", "/", None), ("PATCH", "/", None),
    ("GET", "/health", None), ("GET", "/ready", None), ("GET", "/openapi.yaml", None), ("GET", "/metrics", None),
    ("GET", "/no/such/path", None),
    ("GET", "/dashboard", None), ("GET", "/dashboard?asset=999999999", None), ("GET", "/dashboard?sma=1", None), ("GET", "/docs", None),
    ("HEAD", "/docs", None),
    ("GET", "/spreads", None), ("GET", "/spreads?format=csv", None), ("GET", "/spreads?book=nope", None),
    ("GET", "/spreads?from=junk", None), ("HEAD", "/spreads", None), ("GET", "/spreads/summary", None),
    ("GET", "/spreads/summary?by=day&format=csv", None), ("GET", "/spreads/summary?by=week", None),
    ("GET", "/alerts", None), ("GET", "/alerts?state=open&format=csv", None), ("GET", "/alerts?state=closed", None),
    ("GET", "/exchanges/similar?to=bitso&min_shared=1", None), ("GET", "/exchanges/similar?format=csv", None),
    ("GET", "/exchanges/similar?min_shared=0", None), ("GET", "/exchanges/similar?to=kraken", None), ("HEAD", "/exchanges/similar", None),
    ("GET", "/exchanges/markets", None), ("GET", "/exchanges/markets?exchange=binance&format=csv", None),
    ("GET", "/exchanges/markets?exchange=exchange_150", None), ("GET", "/exchanges/markets?run=previous", None),
    ("GET", "/exchanges/markets?run=yesterday", None),
]
problems = []
for method, path, headers in requests:
    status, found = check(method, path, headers)
    print(f"{method:6} {path:40} {status} {'ok' if not found else 'MISMATCH'}")
    problems += found
for problem in problems:
    print(problem, file=sys.stderr)
print(f"{len(requests) - len({p.split(':')[0] for p in problems})} passed, {len({p.split(':')[0] for p in problems})} failed")
sys.exit(1 if problems else 0)
