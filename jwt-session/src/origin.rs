//! Where a request comes from, one reading for every function that refuses cross-site
//! requests (the authorizer's CSRF check of unsafe methods, the example login's `/login` and
//! `/logout`): `Sec-Fetch-Site` and `Origin`, and the `ALLOWED_ORIGINS` list.

/// `scheme://host[:port]` with nothing after (an entry of `ALLOWED_ORIGINS`).
pub fn is_origin(origin: &str) -> bool {
    let Some((scheme, rest)) = origin.split_once("://") else {
        return false;
    };
    matches!(scheme, "https" | "http")
        && !rest.is_empty()
        && !rest.contains(['/', '?', '#', '@', ' '])
        && rest.is_ascii()
}

/// `ALLOWED_ORIGINS`: comma-separated origins, lower-cased; `Err` names the first entry that is
/// not an origin.
pub fn parse_allowed_origins(text: &str) -> Result<Vec<String>, String> {
    let origins: Vec<String> = text
        .split(',')
        .map(|o| o.trim().to_ascii_lowercase())
        .filter(|o| !o.is_empty())
        .collect();
    match origins.iter().find(|o| !is_origin(o)) {
        Some(bad) => Err(format!(
            "`{}` is not an origin; use scheme://host[:port], comma-separated",
            bad.escape_default()
        )),
        None => Ok(origins),
    }
}

/// Whether any `Sec-Fetch-Site` value says `cross-site` (HTTP APIs join repeated headers with
/// commas: any element counts).
pub fn is_cross_site<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> bool {
    values.into_iter().any(|v| {
        v.split(|b| *b == b',')
            .any(|part| part.trim_ascii().eq_ignore_ascii_case(b"cross-site"))
    })
}

/// Whether `origin` (an `Origin` header's value) is in `allowed` (lower-cased); an empty list
/// allows every origin (no `Origin` check).
pub fn is_allowed_origin(origin: &str, allowed: &[String]) -> bool {
    allowed.is_empty() || allowed.contains(&origin.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_is_a_scheme_and_a_host_with_nothing_after() {
        assert!(is_origin("https://app.example"));
        assert!(is_origin("http://127.0.0.1:8080"));
        for bad in [
            "app.example",
            "https://",
            "https://a/b",
            "ftp://a",
            "https://u@a",
            "https://a?x",
        ] {
            assert!(!is_origin(bad), "{bad}");
        }
        assert_eq!(
            parse_allowed_origins(" https://A.example , http://b:1 ,"),
            Ok(vec![
                "https://a.example".to_owned(),
                "http://b:1".to_owned()
            ])
        );
        assert!(parse_allowed_origins("https://a,not an origin").is_err());
    }

    #[test]
    fn any_element_of_any_sec_fetch_site_value_saying_cross_site_counts() {
        assert!(is_cross_site([b"same-origin,cross-site".as_slice()]));
        assert!(is_cross_site([
            b"none".as_slice(),
            b" Cross-Site ".as_slice()
        ]));
        assert!(!is_cross_site([
            b"same-site".as_slice(),
            b"same-origin".as_slice()
        ]));
        assert!(!is_cross_site(std::iter::empty()));
    }

    #[test]
    fn an_origin_is_allowed_when_listed_in_any_case_or_when_no_list_is_set() {
        let allowed = vec!["https://app.example".to_owned()];
        assert!(is_allowed_origin("https://APP.example", &allowed));
        assert!(!is_allowed_origin("https://evil.example", &allowed));
        assert!(is_allowed_origin("https://evil.example", &[]));
    }
}
