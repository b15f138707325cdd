//! Choosing the route for a request, the way API Gateway does: the most specific path wins
//! (literal segments before `{name}`, `{name}` before a greedy `{name+}`), and a route with
//! the request's method before `ANY`.

use std::collections::BTreeMap;

use crate::template::{Api, Route};

fn segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

/// A score for `route` against `path` (higher is more specific), with the path parameters;
/// none when it does not match.
fn score(route: &Route, path: &[&str]) -> Option<(Vec<u8>, BTreeMap<String, String>)> {
    let tpl = segments(&route.path);
    let mut params = BTreeMap::new();
    let mut ranks = Vec::with_capacity(tpl.len());
    let mut i = 0usize;
    for (n, seg) in tpl.iter().enumerate() {
        if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix("+}")) {
            // Greedy: must be last and take at least one segment.
            let rest = path
                .get(i..)
                .filter(|r| !r.is_empty() && n + 1 == tpl.len())?;
            params.insert(name.to_owned(), rest.join("/"));
            ranks.push(0);
            i = path.len();
            continue;
        }
        let got = *path.get(i)?;
        if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            params.insert(name.to_owned(), got.to_owned());
            ranks.push(1);
        } else if *seg == got {
            ranks.push(2);
        } else {
            return None;
        }
        i += 1;
    }
    (i == path.len()).then_some((ranks, params))
}

/// The route for `method` and `path` (decoded, below the API's base).
pub fn find<'a>(
    api: &'a Api,
    method: &str,
    path: &str,
) -> Option<(&'a Route, BTreeMap<String, String>)> {
    let segs = segments(path);
    api.routes
        .iter()
        .filter(|r| r.method == method || r.method == "ANY")
        .filter_map(|r| score(r, &segs).map(|(s, p)| ((s, r.method != "ANY"), r, p)))
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, r, p)| (r, p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::ApiKind;

    fn api() -> Api {
        let r = |m: &str, p: &str, f: &str| Route {
            remove_headers: Vec::new(),
            method: m.into(),
            path: p.into(),
            function: f.into(),
            authorizer: None,
        };
        Api {
            kind: ApiKind::Http,
            logical_id: "A".into(),
            stage: "dev".into(),
            routes: vec![
                r("ANY", "/{proxy+}", "greedy"),
                r("GET", "/orders/{id}", "param"),
                r("GET", "/orders/latest", "literal"),
                r("ANY", "/orders/latest", "any-literal"),
                r("GET", "/", "root"),
            ],
            authorizers: Default::default(),
        }
    }

    #[test]
    fn the_most_specific_route_wins() {
        let a = api();
        let f = |m: &str, p: &str| find(&a, m, p).map(|(r, _)| r.function.clone());
        assert_eq!(f("GET", "/orders/latest").as_deref(), Some("literal"));
        assert_eq!(f("POST", "/orders/latest").as_deref(), Some("any-literal"));
        assert_eq!(f("GET", "/orders/7").as_deref(), Some("param"));
        assert_eq!(f("GET", "/orders/7/items").as_deref(), Some("greedy"));
        assert_eq!(f("GET", "/").as_deref(), Some("root"));
        assert_eq!(f("POST", "/").as_deref(), None);
        let (_, p) = find(&a, "GET", "/orders/7").unwrap();
        assert_eq!(p.get("id").map(String::as_str), Some("7"));
        let (_, p) = find(&a, "DELETE", "/x/y").unwrap();
        assert_eq!(p.get("proxy").map(String::as_str), Some("x/y"));
    }
}
