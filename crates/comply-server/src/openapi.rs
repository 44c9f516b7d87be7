//! The OpenAPI 3.1 document, generated from the route registry.

use crate::api::{Access, RouteDoc};
use serde_json::{Map, Value, json};
use std::sync::OnceLock;

pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| build(crate::routes::api().docs()))
}

fn path_params(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect()
}

fn problem(description: &str) -> Value {
    json!({"description": description, "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}})
}

fn build(routes: &[RouteDoc]) -> Value {
    let mut paths = Map::new();
    for route in routes {
        let mut responses = Map::new();
        responses.insert(
            "200".into(),
            json!({"description": "Success", "content": {"application/json": {}}}),
        );
        if route.access != Access::Public {
            responses.insert(
                "401".into(),
                problem("Missing, invalid, expired or revoked token"),
            );
            responses.insert(
                "403".into(),
                problem("The token's role does not allow this"),
            );
        }
        if matches!(route.access, Access::Org(_)) {
            responses.insert(
                "404".into(),
                problem("No such organization or resource visible to the caller"),
            );
        }
        let access = match route.access {
            Access::Public => "public".to_owned(),
            Access::Authenticated => "any valid token".to_owned(),
            Access::InstanceAdmin => "instance administrator".to_owned(),
            Access::Org(role) => format!("role {role} or higher in the organization"),
        };
        let mut parameters = path_params(&route.path);
        parameters.extend(route.query.iter().map(|p| {
            json!({"name": p.name, "in": "query", "required": p.required,
                   "description": p.description, "schema": {"type": p.kind}})
        }));
        let mut op = json!({
            "summary": route.summary,
            "description": format!("Access: {access}."),
            "parameters": parameters,
            "responses": responses,
        });
        if route.access != Access::Public {
            op["security"] = json!([{"bearer": []}]);
        }
        if let Some(example) = route.body {
            let example: Value = serde_json::from_str(example).unwrap_or(Value::Null);
            op["requestBody"] =
                json!({"required": true, "content": {"application/json": {"example": example}}});
        }
        let entry = paths.entry(route.path.clone()).or_insert_with(|| json!({}));
        entry[route.method.as_str().to_lowercase()] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "comply",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Compliance frameworks for software supply chains.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
            // Clients (the CLI) read the limits to explain a cut-off upload.
            "x-comply-limits": {
                "max_request_bytes": crate::routes::MAX_BODY_BYTES,
                "max_subjects": crate::boundary::MAX_SUBJECTS,
                "max_materials": crate::boundary::MAX_MATERIALS,
                "max_evaluations": crate::boundary::MAX_EVALUATIONS,
            },
        },
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "An API token: comply_<id>_<secret>"}},
            "schemas": {"Problem": {
                "type": "object",
                "description": "RFC 9457 problem details; validation problems list errors with file, line and column.",
                "properties": {
                    "type": {"type": "string", "description": "urn:comply:problem:<slug>, stable: bad-request, unauthorized, forbidden, not-found, method-not-allowed, conflict, payload-too-large, unsupported-media-type, invalid-documents, unavailable, internal"},
                    "title": {"type": "string"},
                    "status": {"type": "integer"}, "detail": {"type": "string"},
                    "errors": {"type": "array", "items": {"type": "object", "properties": {
                        "file": {"type": "string"}, "line": {"type": "integer"},
                        "column": {"type": "integer"}, "message": {"type": "string"}}}}
                }
            }}
        }
    })
}
