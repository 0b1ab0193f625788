//! Reading a request: which protocol its errors are answered in, which operation it
//! asks for with which parameters, and the refusal of anything that could be read
//! differently by LocalStack than by the gateway (a repeated `Content-Type` or
//! `X-Amz-Target`, a query-protocol body that is not a form, a repeated parameter).

use http::HeaderMap;
use serde_json::{Map, Value};

use super::Ctx;
use crate::errors::Protocol;
use aws_wire::encoding::parse_form;
use aws_wire::query::{param, Params};
use aws_wire::sigv4::{SigV4Auth, PRESIGN_PARAMS};

/// What the caller asked for.
pub(super) enum Operation {
    /// JSON protocol: target operation and JSON object.
    Json {
        op: String,
        params: Map<String, Value>,
    },
    /// Query protocol: action and parameters.
    Query { op: String, params: Params },
    /// Something else (REST API, internal endpoint, no action).
    Other,
}

impl Operation {
    pub(super) fn name(&self) -> &str {
        match self {
            Operation::Json { op, .. } | Operation::Query { op, .. } => op,
            Operation::Other => "",
        }
    }
}

/// Work to do with the relayed answer.
/// could be read differently by LocalStack than by the gateway, so it is refused.
const SINGLE_VALUED: [&str; 2] = ["content-type", "x-amz-target"];

pub(super) fn duplicate_header(h: &HeaderMap) -> Option<&'static str> {
    SINGLE_VALUED
        .into_iter()
        .find(|name| h.get_all(*name).iter().count() > 1)
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').next())
        .is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

pub(super) fn protocol_guess(headers: &HeaderMap, auth: Option<&SigV4Auth>) -> Protocol {
    if headers.contains_key("x-amz-target") {
        return Protocol::Json;
    }
    match auth.map(|a| a.service.as_str()) {
        Some("secretsmanager" | "kms") => Protocol::Json,
        Some(s) => Protocol::Query(s.to_string()),
        None => Protocol::Query("sts".into()),
    }
}

pub(super) fn query_params(ctx: &Ctx) -> Result<Params, String> {
    let mut params = Vec::new();
    for (k, v) in
        parse_form(ctx.uri.query().unwrap_or("")).map_err(|e| format!("query string: {e}"))?
    {
        if !PRESIGN_PARAMS.contains(&k.as_str()) {
            params.push((k, v));
        }
    }
    if !ctx.body.is_empty() && !is_form(&ctx.headers) && ctx.uri.path() == "/" {
        // A query-protocol body (no X-Amz-Target, path '/') the gateway cannot read as a
        // form could still carry parameters LocalStack acts on: never relay what was not
        // seen. (Other paths are REST APIs, relayed for the account root only.)
        return Err("a query-protocol request body must be application/x-www-form-urlencoded (denied, fail closed)".into());
    }
    if is_form(&ctx.headers) && !ctx.body.is_empty() {
        let body =
            std::str::from_utf8(&ctx.body).map_err(|_| "form body is not UTF-8".to_string())?;
        params.extend(parse_form(body).map_err(|e| format!("form body: {e}"))?);
    }
    let mut names: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return Err("a parameter appears more than once".into());
    }
    Ok(params)
}

pub(super) fn operation(ctx: &Ctx, service: &str) -> Result<Operation, String> {
    if let Some(target) = ctx.headers.get("x-amz-target") {
        let target = target.to_str().map_err(|_| "X-Amz-Target is not ASCII")?;
        let (prefix, op) = target
            .split_once('.')
            .ok_or("X-Amz-Target must be Service.Operation")?;
        let expected = match service {
            "secretsmanager" => "secretsmanager",
            "kms" => "TrentService",
            _ => prefix,
        };
        if prefix != expected {
            return Err(format!(
                "X-Amz-Target {target} does not belong to the signed service {service}"
            ));
        }
        let params = if ctx.body.is_empty() {
            Map::new()
        } else {
            match serde_json::from_slice::<Value>(&ctx.body) {
                Ok(Value::Object(m)) => m,
                Ok(_) => return Err("the JSON body must be an object".into()),
                Err(e) => return Err(format!("the JSON body does not parse: {e}")),
            }
        };
        return Ok(Operation::Json {
            op: op.to_string(),
            params,
        });
    }
    let params = query_params(ctx)?;
    match param(&params, "Action") {
        Some(a) if !a.is_empty() => Ok(Operation::Query {
            op: a.to_string(),
            params,
        }),
        _ => Ok(Operation::Other),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::ctx;
    use super::*;

    /// A query-protocol body that is not a form is refused, not relayed unseen.
    #[test]
    fn query_body_that_is_not_a_form_is_refused() {
        let xml = "<Action>DeleteUser</Action>";
        for ct in [
            None,
            Some("text/xml"),
            Some("application/json"),
            Some("application/x-www-form-urlencoded-not"),
        ] {
            let headers: Vec<(&str, &str)> = ct.map(|c| ("content-type", c)).into_iter().collect();
            let c = ctx("/?Action=GetCallerIdentity", &headers, xml);
            let e = query_params(&c).unwrap_err();
            assert!(e.contains("x-www-form-urlencoded"), "{ct:?}: {e}");
        }
        let c = ctx(
            "/",
            &[(
                "content-type",
                "Application/X-WWW-Form-Urlencoded; charset=utf-8",
            )],
            "Action=GetCallerIdentity",
        );
        assert_eq!(
            param(&query_params(&c).unwrap(), "Action"),
            Some("GetCallerIdentity")
        );
        // An empty body needs no content type (GET with a query string).
        assert!(query_params(&ctx("/?Action=GetCallerIdentity", &[], "")).is_ok());
    }
}
