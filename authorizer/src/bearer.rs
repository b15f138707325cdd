//! Double-token mode (`DOUBLE_TOKEN`): the `Authorization: Bearer` header it reads.

use jwt_session::strict::Rejected;

use crate::cookie::MAX_TOKEN_BYTES;
use crate::decision::Refused;
use crate::event::Request;

/// The header the double-token mode reads.
pub const AUTHORIZATION_HEADER: &str = "authorization";

/// The token of a single `Authorization: Bearer` header.
pub fn bearer_token(req: &Request) -> Result<&str, Refused> {
    let mut values = req.headers.get_all(AUTHORIZATION_HEADER).iter();
    let value = values.next().ok_or(Refused::NoToken)?;
    if values.any(|v| v != value) {
        return Err(Refused::Token(Rejected::Malformed));
    }
    if value.len() > MAX_TOKEN_BYTES + 7 {
        return Err(Refused::Token(Rejected::TooLarge));
    }
    let value = value
        .to_str()
        .map_err(|_| Refused::Token(Rejected::Malformed))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or(Refused::Token(Rejected::Malformed))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(Refused::Token(Rejected::Malformed));
    }
    Ok(token)
}
