//! All routes, registered through [`Api`] so each is documented and guarded.

pub(crate) mod audit;
pub(crate) mod compliance;
pub use crate::catalog::OrgCatalog;
pub use compliance::CachedRow;
pub(crate) mod coverage;
mod deadlines;
pub(crate) mod decisions;
pub use coverage::OrgView as CoverageView;
pub(crate) mod evidence;
pub(crate) mod reference_data;
mod references;
mod report;
pub use report::{PackAnswer, PackFile, ReportKey};
pub(crate) mod resources;
pub(crate) mod system;
pub(crate) mod tokens;
pub(crate) mod webhooks;

use crate::api::{Access, Api, Method, q};
use crate::error::ApiError;
use crate::middleware;
use crate::state::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::HeaderName;
use comply_core::Role;
use comply_core::resource::Kind;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// Large enough for thousands of requirements in one apply, small enough that one
/// request cannot exhaust memory.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Every route. With `state`, a router; without, the documentation.
pub fn api_with(state: Option<AppState>) -> Api {
    use Access::*;
    let mut api = Api::new(state)
        .route(
            Method::GET,
            "/healthz",
            Public,
            "Liveness: the process answers.",
            system::healthz,
        )
        .route(
            Method::GET,
            "/readyz",
            Public,
            "Readiness: the database answers.",
            system::readyz,
        )
        .route(
            Method::GET,
            "/api/v1/openapi.json",
            Public,
            "This API's OpenAPI document.",
            system::openapi,
        )
        .route(
            Method::GET,
            "/api/v1/whoami",
            Authenticated,
            "The caller's token, org and role.",
            system::whoami,
        )
        .route(
            Method::GET,
            "/api/v1/orgs",
            Authenticated,
            "Organizations the caller can act in.",
            system::list_orgs,
        )
        .route_with_body(
            Method::POST,
            "/api/v1/orgs",
            InstanceAdmin,
            "Create an organization.",
            Some(r#"{"name":"acme"}"#),
            system::create_org,
        )
        .route(
            Method::GET,
            "/api/v1/orgs/{org}/settings",
            Org(Role::Viewer),
            "The organization's settings.",
            system::get_settings,
        )
        .route_with_body(
            Method::PATCH,
            "/api/v1/orgs/{org}/settings",
            Org(Role::Owner),
            "Change settings; absent fields keep their value.",
            Some(r#"{"in_preview_frameworks":true}"#),
            system::patch_settings,
        )
        .route(
            Method::GET,
            "/api/v1/orgs/{org}/tokens",
            Org(Role::Owner),
            "List API tokens (never their secrets).",
            tokens::list,
        )
        .route_with_body(
            Method::POST,
            "/api/v1/orgs/{org}/tokens",
            Org(Role::Owner),
            "Create an API token; the secret is returned once.",
            Some(r#"{"name":"ci","role":"member","expires":null}"#),
            tokens::create,
        )
        .route(
            Method::DELETE,
            "/api/v1/orgs/{org}/tokens/{id}",
            Org(Role::Owner),
            "Revoke an API token.",
            tokens::revoke,
        )
        .route_with_body(
            Method::POST,
            "/api/v1/orgs/{org}/apply",
            Org(Role::Admin),
            "Apply YAML documents: all or nothing, idempotent.",
            Some(r#"{"documents":[{"file":"r.yaml","content":"..."}],"dry_run":false}"#),
            resources::apply,
        )
        .route(
            Method::GET,
            "/api/v1/orgs/{org}/audit",
            Org(Role::Viewer),
            "Audit events, oldest first (query: since, until, target, actor, action, limit).",
            audit::list,
        )
        .query(&[
            q("since", "events at or after this RFC 3339 time"),
            q("until", "events before this RFC 3339 time"),
            q(
                "target",
                "only events about this target, e.g. Requirement/x",
            ),
            q(
                "actor",
                "only events of this actor, e.g. token:ci/ab12cd34ef56ab78",
            ),
            q(
                "action",
                "only events of this action; a prefix ending in '.' (product.) selects a family",
            ),
            q("limit", "at most this many events").integer(),
        ])
        .route(
            Method::GET,
            "/api/v1/orgs/{org}/audit/verify",
            Org(Role::Viewer),
            "Re-hash the audit chain and report the first break.",
            audit::verify,
        );
    api = api
        .route(
            Method::GET,
            "/api/v1/orgs/{org}/keys",
            Org(Role::Viewer),
            "Trusted keys and CA certificates.",
            evidence::list_keys,
        )
        .route_with_body(
            Method::POST,
            "/api/v1/orgs/{org}/keys",
            Org(Role::Owner),
            "Trust a public key (Ed25519, ECDSA P-256; PEM) or a CA certificate.",
            Some(r#"{"name":"ci","pem":"-----BEGIN PUBLIC KEY-----..."}"#),
            evidence::add_key,
        )
        .route(
            Method::DELETE,
            "/api/v1/orgs/{org}/keys/{name}",
            Org(Role::Owner),
            "Stop trusting a key.",
            evidence::remove_key,
        )
        .route(
            Method::GET,
            "/api/v1/orgs/{org}/reference-data",
            Org(Role::Viewer),
            "Reference data catalogs (CISA KEV) the org uses: its own and the instance's, with their dates.",
            reference_data::list,
        )
        .route(
            Method::GET,
            "/api/v1/orgs/{org}/reference-data/{kind}",
            Org(Role::Viewer),
            "The catalog of one kind the org uses (its own, else the instance's), with its content.",
            reference_data::get,
        )
        .route_with_body(
            Method::POST,
            "/api/v1/orgs/{org}/reference-data/{kind}",
            Org(Role::Admin),
            "Import a catalog (CISA's known_exploited_vulnerabilities.json) for the org, or with instance: true for the instance.",
            Some(r#"{"source":"known_exploited_vulnerabilities.json","content":"{\"catalogVersion\":\"2025.08.25\",\"dateReleased\":\"2025-08-25T17:04:19Z\",\"vulnerabilities\":[]}"}"#),
            reference_data::import,
        )
        .route_with_body(
            Method::POST,
            "/api/v1/orgs/{org}/attestations",
            Org(Role::Member),
            "Push a signed attestation (DSSE envelope or Sigstore bundle), or {\"envelope\": …, \"policy_evaluations\": …}.",
            Some(r#"{"payloadType":"application/vnd.in-toto+json","payload":"...","signatures":[]}"#),
            evidence::push,
        )
        .route_with_body(
            Method::POST,
            "/api/v1/attestations",
            Authenticated,
            "Push an attestation into the token's organization (member role).",
            Some(r#"{"payloadType":"application/vnd.in-toto+json","payload":"...","signatures":[]}"#),
            evidence::push_token_org,
        )
        .route(
            Method::GET,
            "/api/v1/orgs/{org}/attestations",
            Org(Role::Viewer),
            "Stored attestations, newest first (query: project, version, limit).",
            evidence::list_attestations,
        )
        .query(&[q("project", "only this project"), q("version", "only this project version"), q("limit", "at most this many, newest first").integer()])
        .route(
            Method::GET,
            "/api/v1/orgs/{org}/attestations/{digest}",
            Org(Role::Viewer),
            "One attestation with its statement and policy evaluations.",
            evidence::get_attestation,
        )
        .route_with_body(
            Method::POST,
            "/api/v1/orgs/{org}/attestations/{digest}/policy-evaluations",
            Org(Role::Member),
            "Supply the policy-evaluation bundle an attestation references (policyEvaluationsRef) without carrying it: checked against the reference's digest, stored once.",
            Some(r#"{"evaluations":[{"name":"sbom-present","materialName":"sbom","violations":[]}]}"#),
            evidence::attach_evaluations,
        )
        .route(
            Method::GET,
            "/api/v1/orgs/{org}/projects",
            Org(Role::Viewer),
            "Projects with their versions (latest marked) and workflows.",
            evidence::list_projects,
        )
        .route(
            Method::GET,
            "/api/v1/orgs/{org}/projects/{name}",
            Org(Role::Viewer),
            "One project.",
            evidence::get_project,
        )
        .route_with_body(
            Method::PATCH,
            "/api/v1/orgs/{org}/projects/{name}/latest",
            Org(Role::Admin),
            "Pin the version `latest` resolves to (null: follow the newest attestation).",
            Some(r#"{"version":"1.8.0"}"#),
            evidence::pin_latest,
        )
        .route(
            Method::POST,
            "/api/v1/orgs/{org}/projects/{name}/versions/{version}/release",
            Org(Role::Admin),
            "Mark a project version released.",
            evidence::release,
        )
        .route(
            Method::GET,
            "/api/v1/orgs/{org}/workflows",
            Org(Role::Viewer),
            "Workflows (query: project).",
            evidence::list_workflows,
        )
        .query(&[q("project", "only this project's workflows")])
        .route_with_body(
            Method::POST,
            "/api/v1/orgs/{org}/workflows",
            Org(Role::Admin),
            "Create a workflow, or set its contract explicitly.",
            Some(r#"{"project":"api","name":"build","contract":"build-and-release"}"#),
            evidence::create_workflow,
        );
    api = api
        .route(
            Method::GET,
            "/api/v1/orgs/{org}/requirements/{name}/coverage",
            Org(Role::Viewer),
            "Which projects' contracts implement the requirement's policies (query: status, assigned, product).",
            coverage::saved,
        )
        .query(&[q("status", "only projects with this coverage status"), q("assigned", "only projects whose products use the requirement").boolean(), q("product", "only this product's projects")])
        .route_with_body(
            Method::POST,
            "/api/v1/orgs/{org}/requirement-coverage",
            Org(Role::Viewer),
            "Coverage of a draft requirement sent in the request, without storing it.",
            Some(r#"{"file":"draft.yaml","content":"apiVersion: chainloop.dev/v1\nkind: Requirement\n..."}"#),
            coverage::draft,
        )
        .route(
            Method::GET,
            "/api/v1/orgs/{org}/products/{name}/status",
            Org(Role::Viewer),
            "Status of every cell of a product version at a time (query: version, framework, project, requirement, at).",
            compliance::product_status,
        )
        .query(&[q("version", "the product version; default: latest"), q("framework", "only this framework"), q("project", "only this project"), q("requirement", "only this requirement"), q("at", "an RFC 3339 time; default now"), q("explain", "include why each cell has its status").boolean()])
        .route(
            Method::GET,
            "/api/v1/orgs/{org}/projects/{name}/status",
            Org(Role::Viewer),
            "A project version's cells under every product and framework that reach it (query: version, at).",
            compliance::project_status,
        )
        .query(&[q("version", "the project version; default: latest"), q("at", "an RFC 3339 time; default now")])
        .route(
            Method::GET,
            "/api/v1/orgs/{org}/products/{name}/history",
            Org(Role::Viewer),
            "Daily score of a product version between two dates (query: version, from, to).",
            compliance::history,
        )
        .query(&[q("version", "the product version; default: latest"), q("from", "first day, YYYY-MM-DD").required(), q("to", "last day, YYYY-MM-DD").required()])
        .route(
            Method::GET,
            "/api/v1/orgs/{org}/status",
            Org(Role::Viewer),
            "Every product version with its score, compliance and counts per status (query: at).",
            compliance::overview,
        )
        .query(&[q("at", "an RFC 3339 time; default now")])
        .route_with_body(
            Method::POST,
            "/api/v1/orgs/{org}/proofs",
            Org(Role::Member),
            "Submit manual evidence for a requirement's proof: a file (base64), a URL or a text.",
            Some(r#"{"product":"portal","version":"2.4","requirement":"architecture-review","proof":"review-record","url":"https://wiki/review"}"#),
            decisions::submit_proof,
        )
        .route(
            Method::GET,
            "/api/v1/orgs/{org}/proofs",
            Org(Role::Viewer),
            "Proofs of a product version (query: product, version).",
            decisions::list_proofs,
        )
        .query(&[q("product", "the product").required(), q("version", "the product version").required()])
        .route_with_body(
            Method::POST,
            "/api/v1/orgs/{org}/exceptions",
            Org(Role::Admin),
            "Grant an exception for a cell; it ends the cell's active override or exception.",
            Some(r#"{"product":"portal","version":"2.4","project":"api","requirement":"container-signed","reason":"legacy base image","expires":null}"#),
            decisions::create_exception,
        )
        .route(
            Method::GET,
            "/api/v1/orgs/{org}/exceptions",
            Org(Role::Viewer),
            "Exceptions (query: product, version).",
            decisions::list_exceptions,
        )
        .query(&[q("product", "only this product"), q("version", "only this product version")])
        .route(
            Method::DELETE,
            "/api/v1/orgs/{org}/exceptions/{id}",
            Org(Role::Admin),
            "Revoke an active exception (or withdraw one waiting for approval).",
            decisions::revoke_exception,
        )
        .route(
            Method::POST,
            "/api/v1/orgs/{org}/exceptions/{id}/approve",
            Org(Role::Admin),
            "Approve an exception waiting for a second person (four eyes): it takes effect now.",
            decisions::approve_exception,
        )
        .route(
            Method::POST,
            "/api/v1/orgs/{org}/exceptions/{id}/reject",
            Org(Role::Admin),
            "Reject an exception waiting for a second person: it never takes effect.",
            decisions::reject_exception,
        )
        .route_with_body(
            Method::POST,
            "/api/v1/orgs/{org}/overrides",
            Org(Role::Admin),
            "Force a cell's status; it ends the cell's active exception or override.",
            Some(r#"{"product":"portal","version":"2.4","project":"api","requirement":"container-signed","status":"passed","reason":"verified by hand"}"#),
            decisions::set_override,
        )
        .route(
            Method::GET,
            "/api/v1/orgs/{org}/overrides",
            Org(Role::Viewer),
            "Overrides (query: product, version).",
            decisions::list_overrides,
        )
        .query(&[q("product", "only this product"), q("version", "only this product version")])
        .route(
            Method::DELETE,
            "/api/v1/orgs/{org}/overrides/{id}",
            Org(Role::Admin),
            "Clear an active override (or withdraw one waiting for approval).",
            decisions::clear_override,
        )
        .route(
            Method::POST,
            "/api/v1/orgs/{org}/overrides/{id}/approve",
            Org(Role::Admin),
            "Approve an override waiting for a second person (four eyes): it takes effect now.",
            decisions::approve_override,
        )
        .route(
            Method::POST,
            "/api/v1/orgs/{org}/overrides/{id}/reject",
            Org(Role::Admin),
            "Reject an override waiting for a second person: it never takes effect.",
            decisions::reject_override,
        );
    api = api
        .route(
            Method::GET,
            "/api/v1/orgs/{org}/products/{name}/report",
            Org(Role::Viewer),
            "An evidence pack of a product version at a time: posture, envelopes, proofs, decisions, audit chain, signed manifest (query: version, framework, at).",
            report::evidence_pack,
        )
        .query(&[q("version", "the product version; default: latest"), q("framework", "only this framework"), q("at", "an RFC 3339 time; default now")])
        .route(
            Method::GET,
            "/api/v1/orgs/{org}/deadlines",
            Org(Role::Viewer),
            "What changes soon without anyone acting: grace periods ending, evidence and proofs expiring, exceptions and overrides expiring (query: within, product, at).",
            deadlines::list,
        )
        .query(&[q("within", "a duration such as 90m, 48h, 7d, 2w; default 7d"), q("product", "only this product"), q("at", "an RFC 3339 time; default now")])
        .route(
            Method::GET,
            "/api/v1/orgs/{org}/webhooks",
            Org(Role::Viewer),
            "Webhooks of the org (never their secrets).",
            webhooks::list,
        )
        .route_with_body(
            Method::POST,
            "/api/v1/orgs/{org}/webhooks",
            Org(Role::Admin),
            "Add a webhook: events are POSTed to the URL, signed with a secret returned once.",
            Some(r#"{"url":"https://hooks.example.com/comply","events":["cell.failed","grace.ending"],"horizon":"24h"}"#),
            webhooks::create,
        )
        .route(
            Method::DELETE,
            "/api/v1/orgs/{org}/webhooks/{id}",
            Org(Role::Admin),
            "Remove a webhook; its pending deliveries are not sent.",
            webhooks::remove,
        )
        .route(
            Method::POST,
            "/api/v1/orgs/{org}/webhooks/{id}/enable",
            Org(Role::Admin),
            "Enable a webhook disabled after repeated failures; its pending deliveries resume.",
            webhooks::enable,
        )
        .route(
            Method::POST,
            "/api/v1/orgs/{org}/webhooks/{id}/test",
            Org(Role::Admin),
            "Enqueue a ping event for this webhook.",
            webhooks::test,
        )
        .route(
            Method::GET,
            "/api/v1/orgs/{org}/webhooks/{id}/deliveries",
            Org(Role::Viewer),
            "A webhook's delivery log, newest first (query: limit).",
            webhooks::deliveries,
        )
        .query(&[q("limit", "at most this many, newest first (default 100)").integer()])
        .route(
            Method::GET,
            "/api/v1/report-key",
            Authenticated,
            "The public key that signs this instance's evidence-pack manifests.",
            report::report_key,
        );
    for kind in Kind::ALL {
        let list_path = format!("/api/v1/orgs/{{org}}/{}", kind.plural());
        let item_path = format!("{list_path}/{{name}}");
        api = api
            .route(
                Method::GET,
                &list_path,
                Org(Role::Viewer),
                "List the org's and the built-in resources of this kind.",
                move |s, e| resources::list(kind, s, e),
            )
            .route(
                Method::GET,
                &item_path,
                Org(Role::Viewer),
                "One resource: the org's own, else the built-in one.",
                move |s, e, p| resources::get(kind, s, e, p),
            )
            .route(
                Method::DELETE,
                &item_path,
                Org(Role::Admin),
                "Delete a custom resource no other resource lists.",
                move |s, e, p| resources::delete(kind, s, e, p),
            )
            .route_with_body(
                Method::POST,
                &format!("{item_path}/duplicate"),
                Org(Role::Admin),
                "Copy a resource into a new custom one.",
                Some(r#"{"as":"my-copy"}"#),
                move |s, e, p, b| resources::duplicate(kind, s, e, p, b),
            );
    }
    api.route(
        Method::POST,
        "/api/v1/orgs/{org}/requirements/{name}/activate",
        Org(Role::Admin),
        "Activate a requirement for this org.",
        |s, e, p| resources::set_active(true, s, e, p),
    )
    .route(
        Method::POST,
        "/api/v1/orgs/{org}/requirements/{name}/deactivate",
        Org(Role::Admin),
        "Deactivate a requirement: it leaves every score.",
        |s, e, p| resources::set_active(false, s, e, p),
    )
}

pub fn api() -> Api {
    api_with(None)
}

pub fn router(state: AppState) -> Router {
    let (routes, _) = api_with(Some(state.clone())).into_parts();
    let routes = routes.merge(crate::web::router(state.clone()));
    let request_id = HeaderName::from_static("x-request-id");
    routes
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            middleware::Expensive::for_this_machine(),
            middleware::limit_expensive,
        ))
        .layer(axum::middleware::from_fn(middleware::refuse_hostile_uri))
        .layer(axum::middleware::from_fn(middleware::one_error_contract))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http())
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}
