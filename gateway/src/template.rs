//! The routes and Lambda authorizers of a SAM template, read the way SAM and API Gateway read
//! them, so that the local gateway serves what `infra/template.yaml` deploys.
//!
//! What is read: `AWS::Serverless::HttpApi` and `AWS::Serverless::Api` resources (stage name,
//! `Auth.DefaultAuthorizer`, Lambda `Auth.Authorizers` with their payload version, simple
//! responses, identity sources other than stage variables, and `ReauthorizeEvery`), and the `HttpApi`/`Api` events of
//! `AWS::Serverless::Function` resources (method, path, `Auth.Authorizer`). A function is served
//! locally under its `cargo lambda` binary name (`Metadata.BuildProperties.Binary`), which is
//! the name `cargo lambda watch` gives it. Anything the gateway cannot reproduce (JWT, Cognito
//! or TOKEN authorizers, implicit APIs, inline code) is an error at start-up that names the
//! resource, rather than a route that silently behaves otherwise.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::Error;

/// SAM's default `ReauthorizeEvery` for a REST API Lambda authorizer (API Gateway's default
/// `authorizerResultTtlInSeconds`).
pub const SAM_DEFAULT_REST_TTL_SECONDS: u64 = 300;
/// For an HTTP API, SAM writes no TTL when `ReauthorizeEvery` is omitted; API Gateway v2
/// documents no default, and the gateway reads the absence as no caching (say
/// `ReauthorizeEvery` explicitly).
pub const DEFAULT_HTTP_TTL_SECONDS: u64 = 0;
/// API Gateway's bound on the result cache TTL.
pub const MAX_TTL_SECONDS: u64 = 3600;

/// Which API Gateway product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiKind {
    /// HTTP API (API Gateway v2).
    Http,
    /// REST API (API Gateway v1).
    Rest,
}

/// The event format an authorizer receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadVersion {
    /// REST API REQUEST authorizers (and HTTP API authorizers with format 1.0).
    V1,
    /// HTTP API format 2.0.
    V2,
}

/// Where an identity source is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentitySource {
    /// A request header (case-insensitive).
    Header(String),
    /// A query string parameter.
    Query(String),
    /// A `$context` / `context` variable, by its dotted name in the request context.
    Context(String),
}

impl IdentitySource {
    /// The expression API Gateway shows for it (`$request.header.Cookie`,
    /// `method.request.header.Cookie`).
    pub fn expression(&self, kind: ApiKind) -> String {
        match (kind, self) {
            (ApiKind::Http, IdentitySource::Header(n)) => format!("$request.header.{n}"),
            (ApiKind::Http, IdentitySource::Query(n)) => format!("$request.querystring.{n}"),
            (ApiKind::Http, IdentitySource::Context(n)) => format!("$context.{n}"),
            (ApiKind::Rest, IdentitySource::Header(n)) => format!("method.request.header.{n}"),
            (ApiKind::Rest, IdentitySource::Query(n)) => format!("method.request.querystring.{n}"),
            (ApiKind::Rest, IdentitySource::Context(n)) => format!("context.{n}"),
        }
    }
}

/// Where a `$context` (HTTP API) or `context` (REST API) variable usable as an identity source
/// is in the request context the gateway builds (`event`): the names API Gateway documents for
/// each product, mapped to the members that hold them; none for a name it does not provide.
/// Templates are checked against it, and identity sources are read through it.
pub fn context_path(kind: ApiKind, name: &str) -> Option<&'static str> {
    let known: &[(&str, &'static str)] = match kind {
        ApiKind::Http => &[
            ("accountId", "accountId"),
            ("apiId", "apiId"),
            ("domainName", "domainName"),
            ("domainPrefix", "domainPrefix"),
            ("httpMethod", "http.method"),
            ("identity.sourceIp", "http.sourceIp"),
            ("identity.userAgent", "http.userAgent"),
            ("path", "http.path"),
            ("protocol", "http.protocol"),
            ("requestId", "requestId"),
            ("routeKey", "routeKey"),
            ("stage", "stage"),
            ("requestTime", "time"),
            ("requestTimeEpoch", "timeEpoch"),
        ],
        ApiKind::Rest => &[
            ("accountId", "accountId"),
            ("apiId", "apiId"),
            ("domainName", "domainName"),
            ("domainPrefix", "domainPrefix"),
            ("extendedRequestId", "extendedRequestId"),
            ("httpMethod", "httpMethod"),
            ("identity.sourceIp", "identity.sourceIp"),
            ("identity.userAgent", "identity.userAgent"),
            ("path", "path"),
            ("protocol", "protocol"),
            ("requestId", "requestId"),
            ("requestTime", "requestTime"),
            ("requestTimeEpoch", "requestTimeEpoch"),
            ("resourceId", "resourceId"),
            ("resourcePath", "resourcePath"),
            ("stage", "stage"),
        ],
    };
    known.iter().find(|(n, _)| *n == name).map(|(_, p)| *p)
}

/// A Lambda authorizer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorizer {
    /// Its name in the template.
    pub name: String,
    /// The function's local name.
    pub function: String,
    /// The event format.
    pub payload: PayloadVersion,
    /// HTTP API simple responses (`isAuthorized`); otherwise IAM policies.
    pub simple: bool,
    /// Identity sources: the cache key, and each must be present or the answer is 401.
    pub identity: Vec<IdentitySource>,
    /// Result cache TTL in seconds (0: no caching).
    pub ttl_seconds: u64,
}

/// One route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// `GET`, `POST`, … or `ANY`.
    pub method: String,
    /// The path template (`/orders`, `/orders/{id}`, `/{proxy+}`).
    pub path: String,
    /// The integration function's local name.
    pub function: String,
    /// The authorizer's name, or none.
    pub authorizer: Option<String>,
    /// Request headers the integration's parameter mapping removes before the function sees
    /// them (HTTP API `remove:header.<name>`, from the API's `DefinitionBody`), lower-case.
    pub remove_headers: Vec<String>,
}

/// One API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Api {
    /// HTTP or REST.
    pub kind: ApiKind,
    /// The resource's logical id.
    pub logical_id: String,
    /// The stage name.
    pub stage: String,
    /// The routes, in template order.
    pub routes: Vec<Route>,
    /// The authorizers by name.
    pub authorizers: BTreeMap<String, Authorizer>,
}

/// What the gateway serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// The HTTP API, if the template has one.
    pub http: Option<Api>,
    /// The REST API, if the template has one.
    pub rest: Option<Api>,
}

/// Converts YAML to JSON values (tags are ignored; the template uses the long form of
/// intrinsic functions only).
fn to_json(y: &yaml_rust2::Yaml) -> Value {
    use yaml_rust2::Yaml;
    match y {
        Yaml::Real(s) => s
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| Value::String(s.clone()), Value::Number),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Array(a) => Value::Array(a.iter().map(to_json).collect()),
        Yaml::Hash(h) => {
            let mut m = Map::new();
            for (k, v) in h {
                let key = match k {
                    Yaml::String(s) | Yaml::Real(s) => s.clone(),
                    Yaml::Integer(i) => i.to_string(),
                    Yaml::Boolean(b) => b.to_string(),
                    _ => continue,
                };
                m.insert(key, to_json(v));
            }
            Value::Object(m)
        }
        Yaml::Alias(_) | Yaml::Null | Yaml::BadValue => Value::Null,
    }
}

struct Reader<'a> {
    resources: &'a Map<String, Value>,
    parameters: BTreeMap<String, String>,
}

impl Reader<'_> {
    /// A scalar, with `Ref` to a parameter resolved to its value and `Ref`/`Fn::GetAtt` to a
    /// resource resolved to its logical id.
    fn scalar(&self, v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("Ref") {
                    return self
                        .parameters
                        .get(r)
                        .cloned()
                        .or_else(|| self.resources.contains_key(r.as_str()).then(|| r.clone()));
                }
                match m.get("Fn::GetAtt") {
                    Some(Value::Array(a)) => a.first().and_then(Value::as_str).map(str::to_owned),
                    Some(Value::String(s)) => s.split('.').next().map(str::to_owned),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    fn function_name(&self, logical_id: &str) -> Result<String, Error> {
        let res = self
            .resources
            .get(logical_id)
            .ok_or_else(|| Error::Template(format!("no resource {logical_id}")))?;
        if res.get("Type").and_then(Value::as_str) != Some("AWS::Serverless::Function") {
            return Err(Error::Template(format!(
                "{logical_id} is not an AWS::Serverless::Function"
            )));
        }
        res.pointer("/Metadata/BuildProperties/Binary")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                Error::Template(format!(
                    "{logical_id} has no Metadata.BuildProperties.Binary: the local gateway serves cargo lambda binaries only"
                ))
            })
    }

    fn string_list(&self, v: Option<&Value>) -> Vec<String> {
        v.and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|x| self.scalar(x))
            .collect()
    }

    fn authorizer(
        &self,
        kind: ApiKind,
        api: &str,
        name: &str,
        props: &Value,
    ) -> Result<Authorizer, Error> {
        let err = |what: &str| Error::Template(format!("{api} authorizer {name}: {what}"));
        let function_arn = props
            .get("FunctionArn")
            .ok_or_else(|| err("only Lambda authorizers (FunctionArn) are served locally"))?;
        let function_id = self
            .scalar(function_arn)
            .ok_or_else(|| err("FunctionArn must be Fn::GetAtt [<function>, Arn]"))?;
        let function = self.function_name(&function_id)?;
        let (payload, simple) = match kind {
            ApiKind::Http => {
                let payload = match props
                    .get("AuthorizerPayloadFormatVersion")
                    .and_then(|v| self.scalar(v))
                    .as_deref()
                {
                    Some("2.0") => PayloadVersion::V2,
                    Some("1.0") => {
                        return Err(err(
                            "payload format 1.0 authorizers on an HTTP API are not served locally (use 2.0)",
                        ))
                    }
                    _ => return Err(err("AuthorizerPayloadFormatVersion must be 2.0")),
                };
                let simple = props
                    .get("EnableSimpleResponses")
                    .and_then(|v| self.scalar(v))
                    .is_some_and(|s| s == "true");
                if simple && payload == PayloadVersion::V1 {
                    return Err(err("simple responses need payload format 2.0"));
                }
                (payload, simple)
            }
            ApiKind::Rest => {
                match props
                    .get("FunctionPayloadType")
                    .and_then(|v| self.scalar(v))
                    .as_deref()
                {
                    Some("REQUEST") => {}
                    _ => return Err(err("only REQUEST authorizers (FunctionPayloadType: REQUEST) are served locally")),
                }
                (PayloadVersion::V1, false)
            }
        };
        let identity_props = props.get("Identity");
        let mut identity = Vec::new();
        // Stage variables are not declared locally (a stage's `Variables` are not read), so an
        // identity source on one would be missing on every request: a 401 API Gateway would not
        // give. Refused rather than reproduced wrongly.
        if !self
            .string_list(identity_props.and_then(|i| i.get("StageVariables")))
            .is_empty()
        {
            return Err(err(
                "StageVariables identity sources are not served locally (the local gateway has no stage variables)",
            ));
        }
        let context_known = |name: &String| context_path(kind, name).is_some();
        if let Some(bad) = self
            .string_list(identity_props.and_then(|i| i.get("Context")))
            .iter()
            .find(|n| !context_known(n))
        {
            return Err(err(&format!(
                "the context variable {bad} is not one the local gateway provides"
            )));
        }
        for (key, make) in [
            (
                "Headers",
                IdentitySource::Header as fn(String) -> IdentitySource,
            ),
            ("QueryStrings", IdentitySource::Query),
            ("Context", IdentitySource::Context),
        ] {
            identity.extend(
                self.string_list(identity_props.and_then(|i| i.get(key)))
                    .into_iter()
                    .map(make),
            );
        }
        let ttl_seconds = match identity_props
            .and_then(|i| i.get("ReauthorizeEvery"))
            .and_then(|v| self.scalar(v))
        {
            None if kind == ApiKind::Rest => SAM_DEFAULT_REST_TTL_SECONDS,
            None => DEFAULT_HTTP_TTL_SECONDS,
            Some(s) => s
                .parse::<u64>()
                .ok()
                .filter(|t| *t <= MAX_TTL_SECONDS)
                .ok_or_else(|| err("ReauthorizeEvery must be 0 to 3600 seconds"))?,
        };
        if props.get("AuthorizerResultTtlInSeconds").is_some() {
            return Err(err("AuthorizerResultTtlInSeconds is not a SAM property (SAM drops it silently); use Identity.ReauthorizeEvery"));
        }
        // Without identity sources API Gateway invokes the authorizer on every request; that is
        // allowed only without caching (API Gateway's `identitySource`: "When the authorization
        // caching is not enabled, this property is optional"; SAM accepts `Identity` with only
        // `ReauthorizeEvery: 0`, aws/serverless-application-model#1508).
        if ttl_seconds > 0 && identity.is_empty() {
            return Err(err(if kind == ApiKind::Rest {
                "result caching (ReauthorizeEvery > 0, 300 when omitted on a REST API) needs at least one identity source; without one say ReauthorizeEvery: 0"
            } else {
                "result caching (ReauthorizeEvery > 0) needs at least one identity source"
            }));
        }
        Ok(Authorizer {
            name: name.to_owned(),
            function,
            payload,
            simple,
            identity,
            ttl_seconds,
        })
    }

    fn api(&self, kind: ApiKind, logical_id: &str, props: &Value) -> Result<Api, Error> {
        let stage = props
            .get("StageName")
            .and_then(|v| self.scalar(v))
            .or_else(|| (kind == ApiKind::Http).then(|| "$default".to_owned()))
            .ok_or_else(|| Error::Template(format!("{logical_id}: StageName is required")))?;
        let auth = props.get("Auth");
        let mut authorizers = BTreeMap::new();
        if let Some(Value::Object(m)) = auth.and_then(|a| a.get("Authorizers")) {
            for (name, p) in m {
                authorizers.insert(name.clone(), self.authorizer(kind, logical_id, name, p)?);
            }
        }
        let default = auth
            .and_then(|a| a.get("DefaultAuthorizer"))
            .and_then(|v| self.scalar(v));
        if let Some(d) = &default {
            if !authorizers.contains_key(d) {
                return Err(Error::Template(format!(
                    "{logical_id}: DefaultAuthorizer {d} is not one of its Lambda authorizers"
                )));
            }
        }
        let mut routes = Vec::new();
        for (fid, res) in self.resources {
            if res.get("Type").and_then(Value::as_str) != Some("AWS::Serverless::Function") {
                continue;
            }
            let Some(Value::Object(events)) = res.pointer("/Properties/Events") else {
                continue;
            };
            for (ename, ev) in events {
                let (ty, id_key) = match kind {
                    ApiKind::Http => ("HttpApi", "ApiId"),
                    ApiKind::Rest => ("Api", "RestApiId"),
                };
                if ev.get("Type").and_then(Value::as_str) != Some(ty) {
                    continue;
                }
                let p = ev.get("Properties").unwrap_or(&Value::Null);
                let err = |what: &str| Error::Template(format!("{fid} event {ename}: {what}"));
                let Some(api_id) = p.get(id_key).and_then(|v| self.scalar(v)) else {
                    return Err(err(
                        "events on SAM's implicit API are not served locally; name the API",
                    ));
                };
                if api_id != logical_id {
                    continue;
                }
                let method = p
                    .get("Method")
                    .and_then(|v| self.scalar(v))
                    .map(|m| m.to_ascii_uppercase())
                    .map(|m| {
                        if m == "X-AMAZON-APIGATEWAY-ANY-METHOD" {
                            "ANY".to_owned()
                        } else {
                            m
                        }
                    })
                    .ok_or_else(|| err("Method is required"))?;
                let path = p
                    .get("Path")
                    .and_then(|v| self.scalar(v))
                    .filter(|s| s.starts_with('/'))
                    .ok_or_else(|| err("Path must start with /"))?;
                let authorizer = match p.pointer("/Auth/Authorizer").and_then(|v| self.scalar(v)) {
                    Some(a) if a == "NONE" => None,
                    Some(a) if authorizers.contains_key(&a) => Some(a),
                    Some(a) => {
                        return Err(err(&format!(
                            "authorizer {a} is not a Lambda authorizer of {logical_id}"
                        )))
                    }
                    None => default.clone(),
                };
                let remove_headers =
                    removed_headers(props, &method, &path).map_err(|what| err(&what))?;
                routes.push(Route {
                    method,
                    path,
                    function: self.function_name(fid)?,
                    authorizer,
                    remove_headers,
                });
            }
        }
        Ok(Api {
            kind,
            logical_id: logical_id.to_owned(),
            stage,
            routes,
            authorizers,
        })
    }
}

impl Template {
    /// Reads a template's text. `overrides` set parameters (`Stage=dev`); other parameters
    /// take their `Default`.
    pub fn parse(text: &str, overrides: &BTreeMap<String, String>) -> Result<Template, Error> {
        let docs = yaml_rust2::YamlLoader::load_from_str(text)
            .map_err(|e| Error::Template(format!("not YAML: {e}")))?;
        let doc = docs.first().map(to_json).unwrap_or(Value::Null);
        let resources = doc
            .get("Resources")
            .and_then(Value::as_object)
            .ok_or_else(|| Error::Template("no Resources".into()))?;
        let mut parameters = BTreeMap::new();
        if let Some(Value::Object(ps)) = doc.get("Parameters") {
            for (name, p) in ps {
                if let Some(v) = p.get("Default").and_then(|d| match d {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                }) {
                    parameters.insert(name.clone(), v);
                }
            }
        }
        for (k, v) in overrides {
            parameters.insert(k.clone(), v.clone());
        }
        let reader = Reader {
            resources,
            parameters,
        };
        let mut http = None;
        let mut rest = None;
        for (id, res) in resources {
            let (kind, slot) = match res.get("Type").and_then(Value::as_str) {
                Some("AWS::Serverless::HttpApi") => (ApiKind::Http, &mut http),
                Some("AWS::Serverless::Api") => (ApiKind::Rest, &mut rest),
                Some(t @ ("AWS::ApiGatewayV2::Api" | "AWS::ApiGateway::RestApi")) => {
                    return Err(Error::Template(format!(
                        "{id}: {t} is not served locally; declare APIs with SAM's AWS::Serverless::HttpApi / AWS::Serverless::Api"
                    )))
                }
                _ => continue,
            };
            if slot.is_some() {
                return Err(Error::Template(format!(
                    "{id}: the local gateway serves one API of each kind"
                )));
            }
            let props = res.get("Properties").unwrap_or(&Value::Null);
            *slot = Some(reader.api(kind, id, props)?);
        }
        Ok(Template { http, rest })
    }
}

/// The headers an HTTP API's parameter mapping removes on the route `method path`: the
/// `requestParameters` of the route's `x-amazon-apigateway-integration` in the API's
/// `DefinitionBody` (an OpenAPI document), `remove:header.<name>` entries. API Gateway applies
/// them before the integration's event is built, so the function never sees those headers
/// ([Transforming API requests and responses for HTTP APIs](https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-parameter-mapping.html)).
/// Any other mapping (overwrite, append, a response mapping) is not applied locally: refused.
fn removed_headers(api_props: &Value, method: &str, path: &str) -> Result<Vec<String>, String> {
    let Some(Value::Object(paths)) = api_props.pointer("/DefinitionBody/paths") else {
        return Ok(Vec::new());
    };
    let Some(Value::Object(operations)) = paths.get(path) else {
        return Ok(Vec::new());
    };
    let key = if method == "ANY" {
        "x-amazon-apigateway-any-method".to_owned()
    } else {
        method.to_ascii_lowercase()
    };
    let Some(integration) = operations
        .iter()
        .find(|(m, _)| m.eq_ignore_ascii_case(&key))
        .and_then(|(_, op)| op.get("x-amazon-apigateway-integration"))
    else {
        return Ok(Vec::new());
    };
    if integration.get("responseParameters").is_some() {
        return Err("response parameter mappings are not applied locally".into());
    }
    let Some(Value::Object(params)) = integration.get("requestParameters") else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for name in params.keys() {
        match name.strip_prefix("remove:header.") {
            Some(header) if !header.is_empty() => out.push(header.to_ascii_lowercase()),
            _ => {
                return Err(format!(
                    "request parameter mapping `{name}` is not applied locally (only remove:header.<name>)"
                ))
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overrides() -> BTreeMap<String, String> {
        BTreeMap::from([("Stage".to_owned(), "dev".to_owned())])
    }

    #[test]
    fn the_project_http_api_removes_the_method_override_headers_on_every_route() {
        let text = include_str!("../../infra/template.yaml");
        let t = Template::parse(text, &overrides()).unwrap();
        let http = t.http.unwrap();
        assert!(!http.routes.is_empty());
        for r in &http.routes {
            for h in [
                "x-http-method-override",
                "x-http-method",
                "x-method-override",
            ] {
                assert!(
                    r.remove_headers.iter().any(|x| x == h),
                    "{} {}: {h}",
                    r.method,
                    r.path
                );
            }
        }
    }

    #[test]
    fn a_parameter_mapping_the_gateway_cannot_apply_is_refused_at_start_up() {
        let props: Value = serde_json::from_str(
            r#"{"DefinitionBody": {"paths": {"/a": {"get": {"x-amazon-apigateway-integration":
               {"requestParameters": {"overwrite:header.X": "y", "remove:header.Z": "''"}}}}}}}"#,
        )
        .unwrap();
        assert!(removed_headers(&props, "GET", "/a")
            .unwrap_err()
            .contains("overwrite:header.X"));
        assert_eq!(removed_headers(&props, "GET", "/b"), Ok(Vec::new()));
        let any: Value = serde_json::from_str(
            r#"{"DefinitionBody": {"paths": {"/a": {"x-amazon-apigateway-any-method":
               {"x-amazon-apigateway-integration": {"requestParameters": {"remove:header.X-A": "''"}}}}}}}"#,
        )
        .unwrap();
        assert_eq!(
            removed_headers(&any, "ANY", "/a"),
            Ok(vec!["x-a".to_owned()])
        );
    }

    #[test]
    fn the_project_template_declares_both_apis_with_the_cookie_authorizer() {
        let text = include_str!("../../infra/template.yaml");
        let t = Template::parse(text, &overrides()).unwrap();
        let http = t.http.unwrap();
        let rest = t.rest.unwrap();
        assert_eq!(http.stage, "dev");
        assert_eq!(rest.stage, "dev");
        let find = |api: &Api, m: &str, p: &str| {
            api.routes
                .iter()
                .find(|r| r.method == m && r.path == p)
                .cloned()
                .unwrap_or_else(|| panic!("{m} {p}"))
        };
        for (m, p, auth) in [
            ("GET", "/", false),
            ("GET", "/health", false),
            ("GET", "/orders", true),
            ("POST", "/orders", true),
            ("POST", "/login", false),
            ("POST", "/logout", false),
            ("POST", "/renew", true),
        ] {
            assert_eq!(find(&http, m, p).authorizer.is_some(), auth, "{m} {p}");
        }
        for (m, p, auth) in [
            ("GET", "/", false),
            ("GET", "/health", false),
            ("GET", "/orders", true),
            ("POST", "/orders", true),
        ] {
            assert_eq!(find(&rest, m, p).authorizer.is_some(), auth, "{m} {p}");
        }
        let a = &http.authorizers["CookieAuthorizer"];
        assert_eq!(a.function, "authorizer");
        assert_eq!(a.payload, PayloadVersion::V2);
        assert!(a.simple);
        assert!(a
            .identity
            .contains(&IdentitySource::Header("Cookie".into())));
        let r = &rest.authorizers["CookieAuthorizer"];
        assert_eq!(r.payload, PayloadVersion::V1);
        assert!(!r.simple);
        assert_eq!(find(&http, "GET", "/orders").function, "orders-example");
        assert_eq!(find(&http, "POST", "/login").function, "login-example");
    }

    const MINI: &str = r#"
Parameters:
  Ttl: {Type: Number, Default: 60}
Resources:
  Authz:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: authz}}
  Backend:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: backend}}
    Properties:
      Events:
        A: {Type: HttpApi, Properties: {ApiId: {Ref: Api}, Method: any, Path: "/{proxy+}"}}
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: L
        Authorizers:
          L:
            FunctionArn: {"Fn::GetAtt": [Authz, Arn]}
            AuthorizerPayloadFormatVersion: "2.0"
            Identity: {Headers: [Cookie], Context: [routeKey], ReauthorizeEvery: {Ref: Ttl}}
"#;

    #[test]
    fn parameters_defaults_and_identity_sources_are_resolved() {
        let t = Template::parse(MINI, &BTreeMap::new()).unwrap();
        let api = t.http.unwrap();
        assert_eq!(api.stage, "$default");
        let a = &api.authorizers["L"];
        assert_eq!(a.ttl_seconds, 60);
        assert!(!a.simple);
        assert_eq!(
            a.identity,
            vec![
                IdentitySource::Header("Cookie".into()),
                IdentitySource::Context("routeKey".into())
            ]
        );
        assert_eq!(api.routes[0].method, "ANY");
        assert_eq!(api.routes[0].authorizer.as_deref(), Some("L"));
        let t = Template::parse(MINI, &BTreeMap::from([("Ttl".into(), "0".into())])).unwrap();
        assert_eq!(t.http.unwrap().authorizers["L"].ttl_seconds, 0);
    }

    const REST: &str = r#"
Resources:
  Authz:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: authz}}
  Backend:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: backend}}
    Properties:
      Events:
        A: {Type: Api, Properties: {RestApiId: {Ref: Api}, Method: get, Path: "/a"}}
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
      Auth:
        DefaultAuthorizer: L
        Authorizers:
          L:
            FunctionArn: {"Fn::GetAtt": [Authz, Arn]}
            FunctionPayloadType: REQUEST
            Identity: {ReauthorizeEvery: 0}
"#;

    #[test]
    fn a_rest_request_authorizer_without_identity_sources_is_served_only_uncached() {
        let t = Template::parse(REST, &BTreeMap::new()).unwrap();
        let a = &t.rest.unwrap().authorizers["L"];
        assert!(a.identity.is_empty());
        assert_eq!(a.ttl_seconds, 0);
        for identity in ["Identity: {ReauthorizeEvery: 60}", "Identity: {}"] {
            let text = REST.replace("Identity: {ReauthorizeEvery: 0}", identity);
            let e = Template::parse(&text, &BTreeMap::new())
                .unwrap_err()
                .to_string();
            assert!(e.contains("needs at least one identity source"), "{e}");
        }
    }

    #[test]
    fn what_cannot_be_served_locally_is_refused_by_name() {
        for (from, to, needle) in [
            ("FunctionArn: {\"Fn::GetAtt\": [Authz, Arn]}", "JwtConfiguration: {}", "only Lambda authorizers"),
            ("ApiId: {Ref: Api}, ", "", "implicit API"),
            ("ReauthorizeEvery: {Ref: Ttl}", "ReauthorizeEvery: 4000", "0 to 3600"),
            ("Context: [routeKey]", "Context: [routeKey, nonsense]", "context variable nonsense"),
            ("AuthorizerPayloadFormatVersion: \"2.0\"", "AuthorizerPayloadFormatVersion: \"1.0\"", "not served locally"),
            ("Identity: {Headers: [Cookie], Context: [routeKey], ReauthorizeEvery: {Ref: Ttl}}", "Identity: {ReauthorizeEvery: 5}", "needs at least one identity source"),
            ("Metadata: {BuildProperties: {Binary: backend}}", "Metadata: {}", "Binary"),
            ("Context: [routeKey]", "Context: [routeKey], StageVariables: [Tenant]", "StageVariables"),
            ("AuthorizerPayloadFormatVersion: \"2.0\"", "AuthorizerPayloadFormatVersion: \"2.0\"\n            AuthorizerResultTtlInSeconds: 0", "not a SAM property"),
        ] {
            let text = MINI.replace(from, to);
            assert_ne!(text, MINI, "{from}");
            let e = Template::parse(&text, &BTreeMap::new()).unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
        }
    }
}
