//! The page frame: head, navigation bar, the session's CSRF token for htmx.

use super::Web;
use super::assets::url;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use comply_core::Role;
use maud::{DOCTYPE, Markup, PreEscaped, html};

/// htmx settings: no injected inline style (the CSP forbids it), and error answers are
/// swapped in like others so a form shows its validation message.
const HTMX_CONFIG: &str = r#"{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,"responseHandling":[{"code":"204","swap":false},{"code":"...","swap":true}]}"#;

pub struct Html(pub Markup);

impl IntoResponse for Html {
    fn into_response(self) -> Response {
        (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            self.0.into_string(),
        )
            .into_response()
    }
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="htmx-config" content=(PreEscaped(HTMX_CONFIG));
            title { (title) " · comply" }
            link rel="stylesheet" href=(url("app.css"));
            script src=(url("htmx.js")) defer {}
            script src=(url("app.js")) defer {}
        }
    }
}

/// A page without a session (sign-in, errors).
pub fn bare(title: &str, main: Markup) -> Html {
    Html(html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                header.bar { a.brand href="/" { "comply" } }
                (main)
            }
        }
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Overview,
    Frameworks,
    Requirements,
    Projects,
    Audit,
    Settings,
}

/// A signed-in page. `hx-boost` turns links and forms into partial loads when
/// JavaScript runs; without it they are plain links and forms.
pub fn page(web: &Web, nav: Nav, title: &str, main: Markup) -> Html {
    let headers = format!(r#"{{"X-CSRF-Token":"{}"}}"#, web.csrf);
    let item = |which: Nav, href: &str, label: &str| {
        html! {
            li { a href=(href) aria-current=[(which == nav).then_some("page")] { (label) } }
        }
    };
    Html(html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body hx-boost="true" hx-headers=(headers) {
                a.skip href="#main" { "Skip to content" }
                header.bar {
                    a.brand href="/" { "comply" }
                    nav aria-label="Main" {
                        ul {
                            (item(Nav::Overview, "/", "Overview"))
                            (item(Nav::Frameworks, "/frameworks", "Frameworks"))
                            (item(Nav::Requirements, "/requirements", "Requirements"))
                            (item(Nav::Projects, "/projects", "Projects"))
                            (item(Nav::Audit, "/audit", "Audit log"))
                            @if web.can(Role::Owner) { (item(Nav::Settings, "/settings", "Settings")) }
                        }
                    }
                    div.who {
                        span { (web.ctx.org.name) " · " (web.ctx.principal.token_name) " · " span.role { (web.ctx.role) } }
                        form method="post" action="/signout" {
                            (csrf_field(web))
                            button.link type="submit" { "Sign out" }
                        }
                    }
                }
                main id="main" { (main) }
            }
        }
    })
}

/// The hidden field every form carries.
pub fn csrf_field(web: &Web) -> Markup {
    html! { input type="hidden" name=(super::session::CSRF_FIELD) value=(web.csrf); }
}

/// A status as a coloured, labelled chip: the word is always there, colour only helps.
pub fn status_chip(status: &str) -> Markup {
    html! { span class={ "chip s-" (status.to_ascii_lowercase()) } { (status) } }
}

/// A path segment, percent-encoded (names are DNS labels, but a URL is built from
/// whatever a link carries).
pub fn seg(text: &str) -> String {
    serde_urlencoded::to_string([("", text)]).unwrap_or_default()[1..].replace('+', "%20")
}

/// A query string from pairs, empty values left out.
pub fn query(pairs: &[(&str, &str)]) -> String {
    let kept: Vec<(&str, &str)> = pairs
        .iter()
        .copied()
        .filter(|(_, v)| !v.is_empty())
        .collect();
    serde_urlencoded::to_string(kept).unwrap_or_default()
}

/// The confirmation after a write, by code: never free text from the URL.
pub fn notice(done: Option<&str>, texts: &[(&str, &str)]) -> Markup {
    let text = done.and_then(|d| texts.iter().find(|(k, _)| *k == d).map(|(_, t)| *t));
    html! { @if let Some(t) = text { p.notice role="status" { (t) } } }
}

/// A field's error, tied to its input by id (`aria-describedby`).
pub fn field_error(id: &str, error: Option<&str>) -> Markup {
    html! { @if let Some(e) = error { p.field-error id={ (id) "-error" } role="alert" { (e) } } }
}

/// A time as people read it (`2026-12-03 06:59 UTC`), the exact RFC 3339 instant in
/// the element's `datetime` and its tooltip.
pub fn when(t: &str) -> Markup {
    when_as(t, "%Y-%m-%d %H:%M UTC")
}

/// [`when`] with a `strftime` format of its own.
pub fn when_as(t: &str, format: &str) -> Markup {
    let shown = t
        .parse::<jiff::Timestamp>()
        .map(|ts| ts.strftime(format).to_string())
        .unwrap_or_else(|_| t.to_owned());
    html! { time datetime=(t) title=(t) { (shown) } }
}

/// Rows per page of a long list (projects, a requirement's coverage): a page stays a
/// few hundred KB at most, whatever the portfolio (decision 0038).
pub const PAGE_ROWS: u64 = 100;

/// Which page of a list a request asks for, from its `page` query parameter (1 when
/// absent or empty). Anything but a whole number from 1 is refused with the reason,
/// never read as the first page.
pub fn page_number(value: Option<&str>) -> Result<u64, crate::ApiError> {
    let text = value.unwrap_or("").trim();
    if text.is_empty() {
        return Ok(1);
    }
    match text.parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(crate::ApiError::BadRequest(format!(
            "page {}: pages are numbered from 1",
            comply_core::name::quote(text)
        ))),
    }
}

/// Where a list of `total` rows stands at the page asked for: pages past the last show
/// the last (and say so), an empty list has one empty page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// The page shown, from 1.
    pub page: u64,
    pub pages: u64,
    pub total: u64,
    /// The page asked for when it was past the last.
    pub past: Option<u64>,
}

impl Paging {
    pub fn new(asked: u64, total: u64) -> Paging {
        let pages = total.div_ceil(PAGE_ROWS).max(1);
        let page = asked.clamp(1, pages);
        Paging {
            page,
            pages,
            total,
            past: (asked > pages).then_some(asked),
        }
    }

    /// The first row of the page, from 0.
    pub fn offset(&self) -> u64 {
        (self.page - 1) * PAGE_ROWS
    }
}

/// A count as people read it: `5,000`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "Showing 101–200 of 5,000 projects" and links to the first, previous, next and last
/// pages. `base` is the list's path and `kept` its filters, carried by every link so a
/// page keeps them; `noun` what a row is (singular; an `s` makes the plural). Plain links: they work without JavaScript, and `hx-boost` loads them
/// without a full reload.
pub fn pager(base: &str, kept: &[(&str, &str)], paging: &Paging, noun: &str) -> Markup {
    let href = |page: u64| {
        let number = page.to_string();
        let mut pairs: Vec<(&str, &str)> = kept.to_vec();
        if page > 1 {
            pairs.push(("page", &number));
        }
        let q = query(&pairs);
        if q.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{q}")
        }
    };
    let Paging {
        page, pages, total, ..
    } = *paging;
    let first = if total == 0 { 0 } else { paging.offset() + 1 };
    let last = (paging.offset() + PAGE_ROWS).min(total);
    let what = if total == 1 {
        noun.to_owned()
    } else {
        format!("{noun}s")
    };
    html! {
        @if let Some(asked) = paging.past {
            p.notice.warn role="status" { "There is no page " (asked) ": this list has " (pages) @if pages == 1 { " page" } @else { " pages" } ". This is the last." }
        }
        nav.pager aria-label={ "Pages of " (what) } {
            p.count { "Showing " (thousands(first)) "–" (thousands(last)) " of " (thousands(total)) " " (what) }
            @if pages > 1 {
                ul.plain {
                    li { @if page > 1 { a href=(href(1)) { "« First" } } @else { span.off { "« First" } } }
                    li { @if page > 1 { a href=(href(page - 1)) rel="prev" { "‹ Previous" } } @else { span.off { "‹ Previous" } } }
                    li.at { "Page " (page) " of " (pages) }
                    li { @if page < pages { a href=(href(page + 1)) rel="next" { "Next ›" } } @else { span.off { "Next ›" } } }
                    li { @if page < pages { a href=(href(pages)) { "Last »" } } @else { span.off { "Last »" } } }
                }
            }
        }
    }
}
