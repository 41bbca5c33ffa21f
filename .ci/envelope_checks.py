"""Schemathesis checks that read confab's envelope instead of the HTTP status.

confab answers every API request with HTTP 200 and puts the outcome in the body's `status`
(the PowerTalk protocol: the SDKs ignore any other HTTP status). The built-in checks that judge
the outcome by the HTTP status (`negative_data_rejection`, `ignored_auth`,
`positive_data_acceptance`, `not_a_server_error`) therefore see every answer as a success. These
checks apply the same judgements to the envelope's body status.
"""
import copy
import json
import re

import jsonschema_rs
import schemathesis
from schemathesis.core.transforms import to_wire_text
from schemathesis.specs.openapi import checks as C
from schemathesis.specs.openapi._auth_retry import (
    get_security_parameters,
    remove_auth,
    send_probe,
    set_auth_for_case,
)


def _envelope(response):
    if response.status_code != 200:
        return None
    ctype = response.headers.get("content-type", [""])
    ctype = ctype[0] if isinstance(ctype, list) else ctype
    if not ctype.startswith("application/json"):
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("status"), int) and isinstance(body.get("error"), dict):
        return body
    return None


def _as_body_status(response):
    """`response` with its HTTP status replaced by the envelope's body status."""
    env = _envelope(response)
    if env is None:
        return response
    clone = copy.copy(response)
    clone.status_code = env["status"]
    return clone


def _describe(env):
    e = env["error"]
    return f"body status {env['status']} code {e.get('code')!r} message {e.get('message')!r} field {e.get('field')!r}"


@schemathesis.check
def envelope_not_a_server_error(ctx, response, case):
    """Body status 500 (`99999`) is a server error even under HTTP 200."""
    env = _envelope(response)
    if env is not None and env["status"] >= 500:
        raise AssertionError(f"Server error inside the envelope: {_describe(env)}")
    return None


@schemathesis.check
def envelope_negative_data_rejection(ctx, response, case):
    """The built-in negative_data_rejection, judged on the body status."""
    if _multipart_valid_on_the_wire(case):
        return None
    if _blank_body(case):
        # Documented: a body of whitespace alone is an empty body, the parameterless form
        # the SDKs send; whether it is accepted is the empty body's case.
        return None
    return C._openapi_negative_data_rejection(ctx, _as_body_status(response), case)


def _blank_body(case):
    body = case.body
    if isinstance(body, bytes):
        return body.strip() == b""
    return isinstance(body, str) and body.strip() == ""


def _multipart_valid_on_the_wire(case):
    """Whether a multipart body generated as schema-violating is valid as it is sent.

    Every multipart part is text or bytes: a `false` generated where the schema says string is
    sent as the five characters `false`, which the server cannot tell from the string. So the
    body is judged in its wire form, each value as Schemathesis spells it into its part.
    """
    if not (case.media_type or "").startswith("multipart/") or not isinstance(case.body, dict):
        return False
    body = case.operation.get_body_for_media_type(case.media_type)
    schema = body.resolved_schema if body is not None else None
    if not isinstance(schema, dict):
        return False
    wire = {}
    for name, value in case.body.items():
        if isinstance(value, (list, tuple)):
            # An empty list sends no part at all and a one-item list one part: on the wire
            # they are an omitted field and a single value. A repeated part is left to the
            # built-in judgement.
            if not value:
                continue
            if len(value) > 1:
                return False
            value = value[0]
        if isinstance(value, bytes):
            wire[name] = value.decode("latin-1")
        elif isinstance(value, str):
            wire[name] = value
        elif isinstance(value, (bool, dict)) or value is None:
            wire[name] = to_wire_text(value)
        elif isinstance(value, (int, float)):
            wire[name] = str(value)
        else:
            return False
    try:
        return jsonschema_rs.validator_for(schema).is_valid(wire)
    except Exception:  # a schema the validator cannot compile: keep the built-in judgement
        return False


# 40002 messages that a schema cannot express (the data is well-formed; the state says no).
SEMANTIC_40002 = re.compile(
    r"unknown (xcUserID|user ID|user)|the room type cannot change|not a participant of this room"
    # an upload's bytes: not an image where one is needed, over the size limit
    r"|not an image|larger than \d+ bytes"
    # a photo's upload time that is not the one given
    r"|createdTime is not the photo's"
    # a scheduled message's time, which must be in the future when the request arrives
    r"|must be a time in the future"
    # a report that does not exist, or was resolved already
    r"|no open report with this reportID"
    # a webhook that does not exist; a webhook URL whose host does not resolve, or resolves to a
    # private address (the network's state, not the request's form)
    r"|no webhook of this app has this ID|its host does not resolve|its host did not resolve"
    r"|resolves to a loopback or private address"
)


@schemathesis.check
def envelope_positive_data_acceptance(ctx, response, case):
    """Schema-valid data must not be refused as malformed: a `40002` is allowed only for reasons
    that depend on stored state (unknown users, a room's fixed type, participation)."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return None
    if C.is_unexpected_http_status_case(case) if hasattr(C, "is_unexpected_http_status_case") else False:
        return None
    env = _envelope(response)
    if env is None:
        return None
    code = env["error"].get("code")
    message = env["error"].get("message", "")
    if code == "40002" and "must be an integer" in message and _integral_float_sent(case, message):
        # Documented limitation: integer parameters must be written without a fraction part
        # (`1001`, not `1001.0`), which JSON Schema's `integer` cannot express.
        return None
    if code == "40002" and "entries must be numeric IDs" in message and _integral_float_in_list(case, message):
        return None  # the same limitation for IDs sent as numbers (`2.0`)
    if code == "40002" and "not a message type" in message and _integral_float_type(case):
        return None  # the same limitation for a message object's `type` (`1001.0`)
    if code == "40002" and "not a room ID" in message and _descending_personal_room(case):
        # Documented limitation: a personal room ID must list the smaller user ID first, which a
        # pattern cannot express.
        return None
    if code == "40002" and not SEMANTIC_40002.search(message):
        raise AssertionError(f"Schema-valid request refused as malformed: {_describe(env)}")
    if code in ("40001", "40101", "40102", "40103", "49101", "49102", "49103"):
        raise AssertionError(f"Schema-valid request with valid credentials refused: {_describe(env)}")
    return None


def _integral_float_sent(case, message):
    m = re.search(r"Param '([^']+)'", message)
    body = case.body if isinstance(case.body, dict) else {}
    value = body.get(m.group(1)) if m else None
    return isinstance(value, float) and value.is_integer()


def _integral_float_in_list(case, message):
    m = re.search(r"Param '([^']+)'", message)
    body = case.body if isinstance(case.body, dict) else {}
    items = body.get(m.group(1)) if m else None
    return isinstance(items, list) and any(isinstance(v, float) and v.is_integer() for v in items)


def _integral_float_type(case):
    body = case.body if isinstance(case.body, dict) else {}
    message = body.get("message")
    value = message.get("type") if isinstance(message, dict) else None
    return isinstance(value, float) and value.is_integer()


def _descending_personal_room(case):
    body = case.body if isinstance(case.body, dict) else {}
    ids = [body.get("roomID", "")]
    if isinstance(body.get("roomIDs"), list):
        ids += body["roomIDs"]
    message = body.get("message")
    if isinstance(message, dict):
        # a scheduled message's room, inside the message object
        ids.append(message.get("roomID", ""))
        if isinstance(message.get("room"), dict):
            ids.append(message["room"].get("roomID", ""))
    for room_id in ids:
        m = re.fullmatch(r"([1-9][0-9]{0,9})-([1-9][0-9]{0,9})", str(room_id))
        if m and int(m.group(1)) > int(m.group(2)):
            return True
    return False


AUTH_REFUSALS = {"40001", "40101", "40102", "40103", "40104", "40105", "40106", "49101", "49102", "49103"}
_enforced = set()


@schemathesis.check
def envelope_ignored_auth(ctx, response, case):
    """Once per operation, after an accepted request: the same request without credentials and with
    invalid credentials must be refused with a credential error code."""
    env = _envelope(response)
    if env is None or env["status"] != 200:
        return None
    label = case.operation.label
    if label in _enforced:
        return None
    params = get_security_parameters(case.operation)
    if not params:
        return None
    probes = [("no credentials", remove_auth(case, params))]
    for p in params:
        invalid = remove_auth(case, params)
        set_auth_for_case(invalid, p)
        probes.append((f"invalid {p.name}", invalid))
    for what, probe in probes:
        r = send_probe(ctx, case, probe)
        penv = _envelope(r)
        if penv is None or penv["error"].get("code") not in AUTH_REFUSALS:
            got = _describe(penv) if penv else f"HTTP {r.status_code} {r.content[:200]!r}"
            raise AssertionError(f"{label} with {what} was not refused: {got}")
    _enforced.add(label)
    return None
