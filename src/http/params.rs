//! Request parameters: the body parsed leniently as JSON, read field by field into typed
//! values, each failure carrying the parameter's field code.
//!
//! The body is JSON whatever the `Content-Type` (the web SDK sends `text/plain`); an empty
//! body, `""`, `null` and `{}` all mean "no parameters", because the SDKs send each of them
//! for parameterless calls.

use axum::body::{Body, to_bytes};
use axum::extract::{FromRequest, Request};
use serde_json::{Map, Value};

use super::envelope::ApiError;
use crate::domain::ParamError;

/// Largest request body accepted (a participant list of 10,000 long IDs fits).
pub const BODY_LIMIT: usize = 4 * 1024 * 1024;

/// A request's parameters.
#[derive(Debug, Default)]
pub struct Params(Map<String, Value>);

impl Params {
    /// Parses a body into parameters.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParamError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        let parsed = match serde_json::from_slice::<Value>(bytes) {
            // Valid JSON with a number no float can hold: parse it with such numbers as
            // strings, so that the parameter they belong to reports itself as invalid.
            Err(err) if err.to_string().starts_with("number out of range") => {
                serde_json::from_slice::<Value>(&quote_huge_numbers(bytes))
            }
            parsed => parsed,
        };
        match parsed {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(Value::Null) => Ok(Self::default()),
            Ok(Value::String(s)) if s.is_empty() => Ok(Self::default()),
            Ok(_) => Err(ParamError::body("Request body must be a JSON object")),
            Err(_) => Err(ParamError::body("Request body is not valid JSON")),
        }
    }

    /// The value of a parameter; JSON `null` counts as absent.
    /// The raw value of a parameter, for an object parsed by its own rules.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    /// A string that must be present and non-empty, at most `max` characters.
    pub fn required_str(
        &self,
        name: &str,
        field: &'static str,
        max: usize,
    ) -> Result<String, ParamError> {
        match self.optional_str(name, field, max)? {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(ParamError::required(name, field)),
        }
    }

    /// A string that may be absent (`None`) or empty, at most `max` characters.
    pub fn optional_str(
        &self,
        name: &str,
        field: &'static str,
        max: usize,
    ) -> Result<Option<String>, ParamError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) if s.chars().count() <= max => Ok(Some(s.clone())),
            Some(Value::String(_)) => Err(ParamError::invalid_because(
                name,
                field,
                format!("longer than {max} characters"),
            )),
            Some(_) => Err(ParamError::invalid_because(name, field, "must be a string")),
        }
    }

    /// An integer that must be present.
    pub fn required_int(&self, name: &str, field: &'static str) -> Result<i64, ParamError> {
        match self.get(name) {
            None => Err(ParamError::required(name, field)),
            Some(v) => v
                .as_i64()
                .ok_or_else(|| ParamError::invalid_because(name, field, "must be an integer")),
        }
    }

    /// An integer that may be absent.
    pub fn optional_int(&self, name: &str, field: &'static str) -> Result<Option<i64>, ParamError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| ParamError::invalid_because(name, field, "must be an integer")),
        }
    }

    /// A list of numeric IDs, each a decimal string (as the SDKs send them) or an integer;
    /// absent means empty.
    pub fn id_list<Id>(
        &self,
        name: &str,
        field: &'static str,
        max_items: usize,
        id: fn(i64) -> Id,
    ) -> Result<Vec<Id>, ParamError> {
        let items = match self.get(name) {
            None => return Ok(Vec::new()),
            Some(Value::Array(items)) if items.len() <= max_items => items,
            Some(Value::Array(_)) => {
                return Err(ParamError::invalid_because(
                    name,
                    field,
                    format!("more than {max_items} entries"),
                ));
            }
            Some(_) => {
                return Err(ParamError::invalid_because(
                    name,
                    field,
                    "must be an array of IDs",
                ));
            }
        };
        items
            .iter()
            .map(|item| match item {
                Value::String(s) => s.parse::<i64>().ok(),
                Value::Number(n) => n.as_i64(),
                _ => None,
            })
            .map(|n| {
                n.map(id).ok_or_else(|| {
                    ParamError::invalid_because(name, field, "entries must be numeric IDs")
                })
            })
            .collect()
    }

    /// A boolean that may be absent; also accepts the strings `"true"` and `"false"`.
    pub fn optional_bool(
        &self,
        name: &str,
        field: &'static str,
    ) -> Result<Option<bool>, ParamError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s == "true" => Ok(Some(true)),
            Some(Value::String(s)) if s == "false" => Ok(Some(false)),
            Some(_) => Err(ParamError::invalid_because(
                name,
                field,
                "must be a boolean",
            )),
        }
    }

    /// A list of non-empty strings that may be absent; `[]` is a valid (empty) list.
    pub fn optional_str_list(
        &self,
        name: &str,
        field: &'static str,
        max_items: usize,
        max_len: usize,
    ) -> Result<Option<Vec<String>>, ParamError> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        let Value::Array(items) = value else {
            return Err(ParamError::invalid_because(
                name,
                field,
                "must be an array of strings",
            ));
        };
        if items.len() > max_items {
            return Err(ParamError::invalid_because(
                name,
                field,
                format!("more than {max_items} entries"),
            ));
        }
        items
            .iter()
            .map(|item| match item {
                Value::String(s) if !s.is_empty() && s.chars().count() <= max_len => Ok(s.clone()),
                _ => Err(ParamError::invalid_because(
                    name,
                    field,
                    format!("entries must be strings of 1 to {max_len} characters"),
                )),
            })
            .collect::<Result<_, _>>()
            .map(Some)
    }

    /// A list of integers that may be absent; `[]` is a valid (empty) list.
    pub fn optional_int_list(
        &self,
        name: &str,
        field: &'static str,
        max_items: usize,
    ) -> Result<Option<Vec<i64>>, ParamError> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        let refuse = || {
            ParamError::invalid_because(
                name,
                field,
                format!("must be an array of at most {max_items} integers"),
            )
        };
        let Value::Array(items) = value else {
            return Err(refuse());
        };
        if items.len() > max_items {
            return Err(refuse());
        }
        items
            .iter()
            // `1001.0` is an integer to JSON Schema, so it is one here too.
            .map(|item| {
                item.as_i64()
                    .or_else(|| {
                        item.as_f64()
                            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                            .map(|f| f as i64)
                    })
                    .ok_or_else(refuse)
            })
            .collect::<Result<_, _>>()
            .map(Some)
    }

    /// A list of non-empty strings that must be present and non-empty.
    pub fn required_str_list(
        &self,
        name: &str,
        field: &'static str,
        max_items: usize,
        max_len: usize,
    ) -> Result<Vec<String>, ParamError> {
        match self.optional_str_list(name, field, max_items, max_len)? {
            None => Err(ParamError::required(name, field)),
            Some(list) if list.is_empty() => Err(ParamError::empty(name, field)),
            Some(list) => Ok(list),
        }
    }

    /// A non-empty list of objects, each returned as its own parameters.
    pub fn required_object_list(
        &self,
        name: &str,
        field: &'static str,
        max_items: usize,
    ) -> Result<Vec<Params>, ParamError> {
        let items = match self.get(name) {
            None => return Err(ParamError::empty(name, field)),
            Some(Value::Array(items)) => items,
            Some(_) => return Err(ParamError::invalid_because(name, field, "must be an array")),
        };
        if items.is_empty() {
            return Err(ParamError::empty(name, field));
        }
        if items.len() > max_items {
            return Err(ParamError::invalid_because(
                name,
                field,
                format!("more than {max_items} entries"),
            ));
        }
        items
            .iter()
            .map(|item| match item {
                Value::Object(map) => Ok(Params(map.clone())),
                _ => Err(ParamError::invalid_because(
                    name,
                    field,
                    "entries must be objects",
                )),
            })
            .collect()
    }
}

/// Whether a number written with an exponent (`1e400`) is beyond a double.
fn overflows_with_exponent(number: &[u8]) -> bool {
    number.iter().any(|c| matches!(c, b'e' | b'E'))
        && std::str::from_utf8(number)
            .ok()
            .and_then(|n| n.parse::<f64>().ok())
            .is_some_and(f64::is_infinite)
}

/// `bytes` with every number outside strings that a double cannot hold (more than 300 digits,
/// or an exponent beyond about 10^308) put in quotes; the rest are left for the parser. Quoted,
/// they become strings, which no numeric parameter accepts, so they are refused on their own
/// field instead of as JSON the parser cannot read.
fn quote_huge_numbers(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 16);
    let (mut in_string, mut escaped, mut i) = (false, false, 0);
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            in_string = escaped || b != b'"';
            escaped = !escaped && b == b'\\';
        } else if b == b'"' {
            in_string = true;
        } else if b == b'-' || b.is_ascii_digit() {
            let end = bytes[i..]
                .iter()
                .position(|c| !(c.is_ascii_digit() || b"+-.eE".contains(c)))
                .map_or(bytes.len(), |n| i + n);
            let number = &bytes[i..end];
            let digits = number.iter().filter(|c| c.is_ascii_digit()).count();
            if digits > 300 || overflows_with_exponent(number) {
                out.push(b'"');
                out.extend_from_slice(number);
                out.push(b'"');
            } else {
                out.extend_from_slice(number);
            }
            i = end;
            continue;
        }
        out.push(b);
        i += 1;
    }
    out
}

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let body: Body = req.into_body();
        let bytes = to_bytes(body, BODY_LIMIT).await.map_err(|err| {
            let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&err);
            let mut timed_out = false;
            while let Some(e) = cause {
                timed_out |= e.is::<tower_http::timeout::TimeoutError>();
                cause = e.source();
            }
            ApiError::Param(ParamError::body(if timed_out {
                "Request body arrived too slowly".to_owned()
            } else {
                format!("Request body is unreadable or larger than {BODY_LIMIT} bytes")
            }))
        })?;
        Ok(Self::parse(&bytes)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parameterless_forms_mean_no_parameters() {
        for body in ["", "  ", "\"\"", "{}", "null"] {
            assert!(
                Params::parse(body.as_bytes()).unwrap().0.is_empty(),
                "{body}"
            );
        }
    }

    #[test]
    fn a_number_too_large_for_any_type_is_an_invalid_parameter_not_invalid_json() {
        let huge = "9".repeat(400);
        let body = format!(r#"{{"name": "a\"{huge}", "type": {huge}, "n": 1e5}}"#);
        let params = Params::parse(body.as_bytes()).unwrap();
        assert_eq!(
            params.required_str("name", "1", 1000).unwrap(),
            format!("a\"{huge}")
        );
        let err = params.required_int("type", "104").unwrap_err();
        assert_eq!(err.field, "104");
        assert!(Params::parse(format!("{{\"type\": {huge}").as_bytes()).is_err());
        for exponent in ["1e400", "-2.5E+309"] {
            let body = format!(r#"{{"type": {exponent}, "small": 1e-400}}"#);
            let params = Params::parse(body.as_bytes()).unwrap();
            assert_eq!(params.required_int("type", "104").unwrap_err().field, "104");
        }
    }

    #[test]
    fn other_bodies_are_refused_without_a_field() {
        for body in ["{", "[1]", "3", "\"x\""] {
            assert_eq!(
                Params::parse(body.as_bytes()).unwrap_err().field,
                "",
                "{body}"
            );
        }
    }

    #[test]
    fn strings_are_checked_for_presence_type_and_length() {
        let p = Params::parse(br#"{"a": "", "b": 5, "c": "xyz", "d": null}"#).unwrap();
        assert_eq!(
            p.required_str("a", "1", 9).unwrap_err().message,
            "Param 'a' is required"
        );
        assert_eq!(
            p.required_str("d", "1", 9).unwrap_err().message,
            "Param 'd' is required"
        );
        assert!(
            p.required_str("b", "2", 9)
                .unwrap_err()
                .message
                .contains("invalid")
        );
        assert!(
            p.required_str("c", "3", 2)
                .unwrap_err()
                .message
                .contains("longer")
        );
        assert_eq!(p.required_str("c", "3", 3).unwrap(), "xyz");
    }

    #[test]
    fn lists_distinguish_missing_empty_and_bad_entries() {
        let p = Params::parse(br#"{"e": [], "bad": ["x", 1], "ok": ["x"]}"#).unwrap();
        assert!(
            p.required_str_list("m", "7", 9, 9)
                .unwrap_err()
                .message
                .ends_with("required")
        );
        assert!(
            p.required_str_list("e", "7", 9, 9)
                .unwrap_err()
                .message
                .ends_with("cannot be empty")
        );
        assert_eq!(
            p.required_str_list("bad", "7", 9, 9).unwrap_err().field,
            "7"
        );
        assert_eq!(p.optional_str_list("e", "7", 9, 9).unwrap(), Some(vec![]));
        assert_eq!(p.required_str_list("ok", "7", 9, 9).unwrap(), vec!["x"]);
    }
}
