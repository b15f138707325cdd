//! `Set-Cookie` values for the session cookie (RFC 6265bis, `__Host-` prefix rules).

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// The default cookie name. `__Host-` makes browsers refuse it unless it is `Secure`, has
/// `Path=/` and no `Domain`, so a sibling subdomain cannot plant or overwrite it.
pub const DEFAULT_COOKIE_NAME: &str = "__Host-session";

/// The `SameSite` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SameSite {
    /// Never sent on cross-site requests (the default).
    #[default]
    Strict,
    /// Sent on top-level cross-site navigations with safe methods.
    Lax,
}

impl fmt::Display for SameSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
        })
    }
}

impl FromStr for SameSite {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "Strict" | "strict" => Ok(SameSite::Strict),
            "Lax" | "lax" => Ok(SameSite::Lax),
            _ => Err(Error::Cookie("SameSite must be Strict or Lax")),
        }
    }
}

/// RFC 6265 `token` characters for cookie names.
pub fn is_valid_cookie_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b))
}

/// RFC 6265 `cookie-octet` characters.
fn is_valid_cookie_value(value: &str) -> bool {
    value
        .bytes()
        .all(|b| matches!(b, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E))
}

fn check_name(name: &str) -> Result<(), Error> {
    if !is_valid_cookie_name(name) {
        return Err(Error::Cookie(
            "the cookie name has characters a cookie name cannot have",
        ));
    }
    Ok(())
}

/// The `Set-Cookie` value that stores `token` for `max_age` seconds:
/// `name=token; Max-Age=N; Path=/; Secure; HttpOnly; SameSite=Strict`.
///
/// `Secure`, `HttpOnly` and `Path=/` are always set; there is never a `Domain`.
pub fn set_cookie(
    name: &str,
    token: &str,
    max_age: u64,
    same_site: SameSite,
) -> Result<String, Error> {
    check_name(name)?;
    if token.is_empty() || !is_valid_cookie_value(token) {
        return Err(Error::Cookie(
            "the value has characters a cookie value cannot have",
        ));
    }
    Ok(format!(
        "{name}={token}; Max-Age={max_age}; Path=/; Secure; HttpOnly; SameSite={same_site}"
    ))
}

/// The `Set-Cookie` value that deletes the cookie (logout).
pub fn expire_cookie(name: &str, same_site: SameSite) -> Result<String, Error> {
    check_name(name)?;
    Ok(format!(
        "{name}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; Secure; HttpOnly; SameSite={same_site}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_cookie_has_every_protective_attribute() {
        let c = set_cookie(DEFAULT_COOKIE_NAME, "a.b.c", 900, SameSite::Strict).unwrap();
        assert_eq!(
            c,
            "__Host-session=a.b.c; Max-Age=900; Path=/; Secure; HttpOnly; SameSite=Strict"
        );
        assert!(!c.contains("Domain"));
        let lax = set_cookie("s", "x", 1, SameSite::Lax).unwrap();
        assert!(lax.ends_with("SameSite=Lax"));
    }

    #[test]
    fn values_and_names_that_would_inject_attributes_are_refused() {
        assert!(set_cookie("s", "a; Domain=evil", 1, SameSite::Strict).is_err());
        assert!(set_cookie("s", "", 1, SameSite::Strict).is_err());
        assert!(set_cookie("a=b", "x", 1, SameSite::Strict).is_err());
        assert!(set_cookie("a b", "x", 1, SameSite::Strict).is_err());
    }

    #[test]
    fn expire_cookie_sets_max_age_zero() {
        let c = expire_cookie(DEFAULT_COOKIE_NAME, SameSite::Strict).unwrap();
        assert!(c.starts_with("__Host-session=; Max-Age=0;"));
        assert!(c.contains("Secure; HttpOnly"));
    }

    #[test]
    fn same_site_parses_both_spellings() {
        assert_eq!("Lax".parse::<SameSite>().unwrap(), SameSite::Lax);
        assert_eq!("strict".parse::<SameSite>().unwrap(), SameSite::Strict);
        assert!("None".parse::<SameSite>().is_err());
    }
}
