//! The route registry: every route with the access it requires and what it does.

use crate::auth::guard;
use crate::state::AppState;
use axum::Router;
use axum::handler::Handler;
use axum::middleware::from_fn_with_state;
use axum::routing::{MethodFilter, on};
use comply_core::Role;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// No token needed (health, the API document).
    Public,
    /// Any valid token.
    Authenticated,
    /// The instance administrator's token only.
    InstanceAdmin,
    /// A token of the path's `{org}` with at least this role.
    Org(Role),
}

/// HTTP methods are `http`'s own; the registry serializes them by name.
pub use axum::http::Method;

pub(crate) fn method_name<S: serde::Serializer>(method: &Method, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(method.as_str())
}

/// The router's filter for a method the registry uses.
pub(crate) fn method_filter(method: &Method) -> MethodFilter {
    MethodFilter::try_from(method.clone()).expect("routes use GET, POST, PATCH or DELETE")
}

/// A query parameter a route reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct QueryParam {
    pub name: &'static str,
    /// JSON Schema type: `string`, `integer`, `boolean`.
    pub kind: &'static str,
    pub required: bool,
    pub description: &'static str,
}

/// `name` (string, optional): `q("name", "…")`; see [`QueryParam`].
pub const fn q(name: &'static str, description: &'static str) -> QueryParam {
    QueryParam {
        name,
        kind: "string",
        required: false,
        description,
    }
}

impl QueryParam {
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub const fn integer(mut self) -> Self {
        self.kind = "integer";
        self
    }

    pub const fn boolean(mut self) -> Self {
        self.kind = "boolean";
        self
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RouteDoc {
    #[serde(serialize_with = "method_name")]
    pub method: Method,
    pub path: String,
    pub access: Access,
    pub summary: &'static str,
    /// A JSON example of the request body, for documentation and tests.
    pub body: Option<&'static str>,
    /// Query parameters, documented in OpenAPI.
    pub query: Vec<QueryParam>,
}

pub struct Api {
    router: Router<AppState>,
    docs: Vec<RouteDoc>,
    state: Option<AppState>,
}

impl Api {
    /// `state` is needed to guard routes; `None` builds the documentation only.
    pub fn new(state: Option<AppState>) -> Self {
        Self {
            router: Router::new(),
            docs: Vec::new(),
            state,
        }
    }

    pub fn route<H, T>(
        self,
        method: Method,
        path: &str,
        access: Access,
        summary: &'static str,
        handler: H,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.route_with_body(method, path, access, summary, None, handler)
    }

    pub fn route_with_body<H, T>(
        mut self,
        method: Method,
        path: &str,
        access: Access,
        summary: &'static str,
        body: Option<&'static str>,
        handler: H,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = method_filter(&method);
        self.docs.push(RouteDoc {
            method,
            path: path.to_owned(),
            access,
            summary,
            body,
            query: Vec::new(),
        });
        if let Some(state) = &self.state {
            let guarded =
                on(filter, handler).route_layer(from_fn_with_state((state.clone(), access), guard));
            self.router = self.router.route(path, guarded);
        }
        self
    }

    /// The query parameters of the route registered last.
    pub fn query(mut self, params: &[QueryParam]) -> Self {
        if let Some(last) = self.docs.last_mut() {
            last.query.extend_from_slice(params);
        }
        self
    }

    pub fn docs(&self) -> &[RouteDoc] {
        &self.docs
    }

    pub fn into_parts(self) -> (Router<AppState>, Vec<RouteDoc>) {
        (self.router, self.docs)
    }
}
