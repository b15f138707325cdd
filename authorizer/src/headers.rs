//! The headers the event reader keeps: the union of what each check declares it reads. It
//! sits above the checks (it imports their lists); no check imports it.

/// The headers the event reader keeps: the union of what each check declares it reads (the
/// cookie, CSRF, double-token and audit code); every other header is skipped unread. A check
/// that reads a header it does not declare sees it missing, in production and in its tests.
pub fn header_filter(csrf_header_name: &str) -> crate::event::HeaderFilter {
    let mut names: Vec<String> = crate::cookie::HEADERS_READ
        .iter()
        .map(|h| (*h).to_owned())
        .chain(crate::csrf::headers_read(csrf_header_name))
        .chain([
            crate::bearer::AUTHORIZATION_HEADER.to_owned(),
            crate::event::USER_AGENT_HEADER.to_owned(),
        ])
        .chain(
            crate::routes::METHOD_OVERRIDE_HEADERS
                .iter()
                .map(|h| (*h).to_owned()),
        )
        .map(|h| h.to_ascii_lowercase())
        .collect();
    names.sort();
    names.dedup();
    crate::event::HeaderFilter::Only(names)
}

/// Reads an event as production does, with the header filter of the default configuration
/// (CSRF header `x-csrf-token`): what the checks' unit tests use, so that they see only the
/// headers the production reader keeps.
#[cfg(test)]
pub fn production_request(raw: &serde_json::Value) -> crate::event::Request {
    crate::event::Request::read(
        &raw.to_string(),
        &header_filter(crate::csrf::DEFAULT_HEADER_NAME),
    )
}
