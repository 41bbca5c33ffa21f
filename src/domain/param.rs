//! The one shape of a request-parameter failure (`40002` on the wire).

use std::borrow::Cow;

/// A parameter that failed validation: the envelope's `error.field` and `error.message`.
///
/// `field` is the parameter's numeric code from the endpoint's table (`"101"`), or the
/// parameter's name where the endpoint defines no codes (`get_list_by_user`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError {
    /// The value of `error.field`.
    pub field: Cow<'static, str>,
    /// The human-readable `error.message`.
    pub message: String,
}

impl ParamError {
    /// `Param 'name' is required`: absent, `null` or an empty string.
    pub fn required(name: &str, field: &'static str) -> Self {
        Self::with(field, format!("Param '{name}' is required"))
    }

    /// `Param 'name' cannot be empty`: an empty array where entries are needed.
    pub fn empty(name: &str, field: &'static str) -> Self {
        Self::with(field, format!("Param '{name}' cannot be empty"))
    }

    /// `Param 'name' is invalid`: wrong JSON type, out of range, or not allowed.
    pub fn invalid(name: &str, field: &'static str) -> Self {
        Self::with(field, format!("Param '{name}' is invalid"))
    }

    /// `Param 'name' is invalid: detail`, for failures a caller can only fix knowing why.
    pub fn invalid_because(
        name: &str,
        field: &'static str,
        detail: impl std::fmt::Display,
    ) -> Self {
        Self::with(field, format!("Param '{name}' is invalid: {detail}"))
    }

    /// A failure of the request body as a whole (not JSON, not an object).
    pub fn body(message: impl Into<String>) -> Self {
        Self {
            field: Cow::Borrowed(""),
            message: message.into(),
        }
    }

    fn with(field: &'static str, message: String) -> Self {
        Self {
            field: Cow::Borrowed(field),
            message,
        }
    }
}
