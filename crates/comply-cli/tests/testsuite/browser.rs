//! The dashboard in a real browser: headless Chromium driven through chromedriver
//! (WebDriver) against a real server on loopback, the CLI preparing what a team would
//! have (resources, a trusted key, signed attestations). Skips, saying so, when no
//! browser is installed. `COMPLY_SCREENSHOTS=1` saves the main pages into
//! docs/screenshots/; axe-core (COMPLY_AXE, else target/axe/node_modules/axe-core) checks
//! each page for serious or critical accessibility violations.

use crate::support::Env;
use comply_attest::{KeyAlgorithm, SigningKey, sign};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const RESOURCES: &str = r#"apiVersion: chainloop.dev/v1
kind: Requirement
metadata:
  name: no-vulns-high
  annotations: {categories: security}
spec:
  policies:
    - ref: vulnerabilities
      with: {severity: HIGH}
---
apiVersion: chainloop.dev/v1
kind: Requirement
metadata:
  name: architecture-review
  annotations: {categories: design, scope: PRODUCT}
spec:
  manual_proofs:
    - name: review-record
      periodicity: yearly
---
apiVersion: chainloop.dev/v1
kind: Framework
metadata:
  name: acme-secure
spec:
  sections:
    - name: Build
      requirements:
        - ref: no-vulns-high
    - name: Design
      requirements:
        - ref: architecture-review
---
apiVersion: chainloop.dev/v1
kind: Contract
metadata:
  name: build
spec:
  materials:
    - {name: scan, type: SARIF}
  policies:
    materials:
      - {ref: vulnerabilities, selector: {name: scan}, with: {severity: MEDIUM}}
---
apiVersion: chainloop.dev/v1
kind: Product
metadata:
  name: portal
spec:
  projects: [api, web]
  versions:
    - name: "1.0"
"#;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A signed Chainloop statement with one `vulnerabilities` evaluation.
fn attestation(key: &SigningKey, project: &str, findings: &[&str]) -> String {
    let now = jiff::Timestamp::now();
    let violations: Vec<Value> = findings
        .iter()
        .enumerate()
        .map(|(i, severity)| {
            json!({"subject": "vulnerabilities", "message": format!("CVE-2026-{i:04} is {severity}"),
                   "vulnerability": {"externalId": format!("CVE-2026-{i:04}"), "severity": severity}})
        })
        .collect();
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": format!("ghcr.io/acme/{project}"), "digest": {"sha256": "cd".repeat(32)}}],
        "predicateType": "chainloop.dev/attestation/v0.2",
        "predicate": {
            "buildType": "chainloop.dev/workflowrun/v0.1",
            "metadata": {"name": "build", "workflowName": "build", "project": project,
                          "projectVersion": "1.0.0", "contractName": "build",
                          "initializedAt": (now - jiff::SignedDuration::from_secs(60)).to_string(),
                          "finishedAt": now.to_string()},
            "materials": [],
            "policyEvaluations": {"scan": [{
                "name": "vulnerabilities", "materialName": "scan",
                "policyReference": {"name": "vulnerabilities", "uri": "chainloop://vulnerabilities"},
                "with": {"severity": "HIGH"}, "type": "SARIF", "violations": violations,
            }]},
        },
    });
    String::from_utf8(sign(
        "application/vnd.in-toto+json",
        statement.to_string().as_bytes(),
        key,
    ))
    .unwrap()
}

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// chromedriver and Chromium, or `None` (and a line saying the test skipped).
async fn browser() -> Option<(Client, Driver)> {
    let (Some(driver), Some(chrome)) = (
        find_program(&["chromedriver"]),
        find_program(&["chromium", "chromium-browser", "google-chrome"]),
    ) else {
        eprintln!(
            "SKIPPED browser test: chromedriver and chromium not found (apt-get install -y chromium chromium-driver)"
        );
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver(child);
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"binary": chrome, "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
               "--disable-dev-shm-usage", "--window-size=1400,900"]}),
    );
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => return Some((client, driver)),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    panic!("chromedriver did not answer at {url}");
}

struct Page<'a> {
    c: &'a Client,
    base: String,
    axe: Option<String>,
}

impl Page<'_> {
    async fn go(&self, path: &str) {
        self.c.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    async fn text(&self, css: &str) -> String {
        self.c
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .text()
            .await
            .unwrap()
    }

    async fn click(&self, css: &str) {
        self.c
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .click()
            .await
            .unwrap();
    }

    async fn fill(&self, css: &str, value: &str) {
        let el = self.c.find(Locator::Css(css)).await.unwrap();
        el.clear().await.unwrap();
        el.send_keys(value).await.unwrap();
    }

    /// Waits until `css` matches an element whose text contains `text` (htmx swaps
    /// asynchronously).
    async fn wait_text(&self, css: &str, text: &str) {
        for _ in 0..100 {
            if let Ok(els) = self.c.find_all(Locator::Css(css)).await {
                for el in els {
                    if el.text().await.is_ok_and(|t| t.contains(text)) {
                        return;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let source = self.c.source().await.unwrap_or_default();
        panic!(
            "no {css} with text '{text}' in:\n{}",
            &source[..source.len().min(4000)]
        );
    }

    async fn count(&self, css: &str) -> usize {
        self.c.find_all(Locator::Css(css)).await.unwrap().len()
    }

    /// Waits until exactly `n` elements match `css`: after an htmx swap the old content
    /// stays until the new arrives, so a count read at once may still be the old one.
    async fn wait_count(&self, css: &str, n: usize, what: &str) {
        for _ in 0..100 {
            if self.count(css).await == n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(self.count(css).await, n, "{what}");
    }

    /// Screenshot (when asked for) and the accessibility check of the current page.
    async fn check(&self, name: &str) {
        if std::env::var("COMPLY_SCREENSHOTS").is_ok_and(|v| v == "1") {
            let png = self.c.screenshot().await.unwrap();
            let dir = workspace().join("docs/screenshots");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
        }
        let Some(axe) = &self.axe else { return };
        self.c.execute(axe, vec![]).await.unwrap();
        let found = self
            .c
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, {resultTypes: ['violations']}).then(r => done(
                   r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                     .map(v => v.id + ': ' + v.help + ' at ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))));",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(found, json!([]), "axe on the {name} page");
    }

    async fn post_status(&self, path: &str, body: &str) -> u64 {
        self.c
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 fetch(arguments[0], {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded'},
                                      body: arguments[1], redirect: 'manual'})
                   .then(r => done(r.status));",
                vec![json!(path), json!(body)],
            )
            .await
            .unwrap()
            .as_u64()
            .unwrap()
    }
}

fn axe_source() -> Option<String> {
    let path = std::env::var_os("COMPLY_AXE")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/axe/node_modules/axe-core/axe.min.js"));
    match std::fs::read_to_string(&path) {
        Ok(s) => Some(s),
        Err(_) => {
            eprintln!(
                "SKIPPED axe-core checks: {} not found (npm install --prefix target/axe axe-core@4)",
                path.display()
            );
            None
        }
    }
}

#[test]
fn a_compliance_lead_works_in_the_dashboard() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(scenario());
}

async fn scenario() {
    let Some((client, _driver)) = browser().await else {
        return;
    };
    let env = Env::start();
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    env.write("ci.pub", &key.public().to_pem());
    env.ok(&["key", "add", "ci", "--public-key", "ci.pub"]);
    env.write("resources.yaml", RESOURCES);
    env.ok(&["apply", "-f", "resources.yaml"]);
    env.write("api.json", &attestation(&key, "api", &["HIGH"]));
    env.ok(&["attestation", "push", "api.json"]);
    env.ok(&[
        "workflow",
        "create",
        "--project",
        "api",
        "--name",
        "build",
        "--contract",
        "build",
    ]);
    let p = Page {
        c: &client,
        base: env.server.clone(),
        axe: axe_source(),
    };

    // Sign in with the bootstrap token: the overview, after the sign-in form.
    p.go("/").await;
    p.wait_text("h1", "Sign in").await;
    p.check("signin").await;
    p.fill("#token", &env.token).await;
    p.click("form.card button[type=submit]").await;
    p.wait_text("h1", "Overview").await;
    p.wait_text("table.grid th a", "portal").await;

    // Settings → in-preview frameworks.
    p.go("/settings").await;
    p.click("#in_preview_frameworks").await;
    p.click("form button.primary").await;
    p.wait_text(".notice", "Settings saved.").await;
    p.check("settings").await;

    // Attach the custom framework and a built-in one by editing the product version.
    p.go("/products/portal?version=1.0").await;
    p.wait_text(".muted", "No framework attached yet.").await;
    for fw in ["acme-secure", "slsa"] {
        p.c.find(Locator::Css("#attach-fw"))
            .await
            .unwrap()
            .select_by_value(fw)
            .await
            .unwrap();
        p.click("form.row button[type=submit]").await;
        p.wait_text(".notice", "Framework attached.").await;
    }
    p.wait_text("table.mx caption", "acme-secure").await;
    p.wait_text("table.mx caption", "slsa").await;
    let product = env.json(&["product", "describe", "portal"]);
    let text = product.to_string();
    assert!(
        text.contains("acme-secure") && text.contains("slsa"),
        "{text}"
    );

    // The matrix: api failed the HIGH threshold; open the cell's explanation.
    let failed = r#"td.s-failed a[href*="r=no-vulns-high"][href*="p=api"]"#;
    assert_eq!(p.count(failed).await, 1, "the api cell is FAILED");
    let score_before = p.text(".kpi").await;
    p.wait_text("figure.chart figcaption", "Score, last 30 days")
        .await;
    p.check("matrix").await;
    p.click(failed).await;
    p.wait_text("#detail h2", "no-vulns-high").await;
    p.wait_text("#detail .chip", "FAILED").await;
    p.check("cell").await;

    // Record an exception: the cell turns EXCEPTED and the score changes.
    p.click("#detail details.action:nth-of-type(2) summary")
        .await;
    p.fill("#ex-reason", "legacy base image, fix scheduled")
        .await;
    p.click("#ex-reason ~ button").await;
    p.wait_text(".notice", "Exception recorded.").await;
    p.wait_text(r#"td.s-excepted a[href*="p=api"]"#, "EXCEPTED")
        .await;
    let score_after = p.text(".kpi").await;
    assert_ne!(score_before, score_after, "the exception changes the score");

    // Upload a proof: the product-scoped cell turns PASSED.
    p.click(r#"td a[href*="r=architecture-review"]"#).await;
    p.wait_text("#detail h2", "architecture-review").await;
    p.wait_text("#detail summary", "Upload a proof").await;
    let summaries = p.c.find_all(Locator::Css("#detail summary")).await.unwrap();
    for s in summaries {
        if s.text().await.unwrap().contains("Upload a proof") {
            s.click().await.unwrap();
        }
    }
    p.fill(
        "#pf-text",
        "Architecture review held on 2026-11-30, minutes in the wiki",
    )
    .await;
    p.click("#pf-at ~ button").await;
    p.wait_text(".notice", "Proof uploaded.").await;
    p.wait_text(r#"td.s-passed a[href*="r=architecture-review"]"#, "PASSED")
        .await;

    // Not applicable for the web project, with a rationale.
    p.click(r#"td a[href*="r=no-vulns-high"][href*="p=web"]"#)
        .await;
    p.wait_text("#detail h2", "no-vulns-high").await;
    let summaries = p.c.find_all(Locator::Css("#detail summary")).await.unwrap();
    for s in summaries {
        if s.text().await.unwrap().contains("Mark not applicable") {
            s.click().await.unwrap();
        }
    }
    p.fill("#na-rationale", "web ships no container image")
        .await;
    p.click("#na-rationale ~ button").await;
    p.wait_text(".notice", "Applicability saved.").await;
    p.wait_text(r#"td.s-not_applicable a[href*="p=web"]"#, "NOT_APPLICABLE")
        .await;
    p.go("/products/portal?version=1.0&r=no-vulns-high&p=api")
        .await;
    p.wait_text("figure.chart figcaption", "Score, last 30 days")
        .await;
    p.check("product-version").await;

    // A write without the CSRF token is refused, and nothing is recorded.
    let before = env.json(&[
        "exception",
        "list",
        "--product",
        "portal",
        "--version",
        "1.0",
    ]);
    let status = p
        .post_status(
            "/products/portal/exceptions",
            "version=1.0&requirement=no-vulns-high&project=web&reason=forged",
        )
        .await;
    assert_eq!(status, 403, "a form post without the CSRF token");
    let after = env.json(&[
        "exception",
        "list",
        "--product",
        "portal",
        "--version",
        "1.0",
    ]);
    assert_eq!(before, after);

    // The page as of yesterday.
    let yesterday = (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24)).to_string();
    p.go(&format!("/products/portal?version=1.0&at={yesterday}"))
        .await;
    p.wait_text(".asof", &yesterday[..10]).await;
    p.wait_text(".asof a", "Back to now").await;
    // Yesterday nothing of this had been applied yet, and the page says so.
    p.wait_text(".notice", "did not exist").await;

    // The overview, now with something to show.
    p.go("/").await;
    p.wait_text("table.grid th a", "portal").await;
    p.wait_count(".spark svg", 1, "the overview's sparkline loads")
        .await;
    p.check("overview").await;

    // Frameworks: the list with its badges, the custom framework's tree.
    p.go("/frameworks").await;
    p.wait_text("table.grid .badge.lab", "lab").await;
    p.check("frameworks").await;
    p.go("/frameworks/acme-secure").await;
    p.wait_text("ul.tree h3", "Build").await;
    p.wait_text("ul.reqs a", "no-vulns-high").await;
    p.check("framework").await;
    p.go("/frameworks/slsa").await;
    p.wait_text("h1 .badge", "built-in").await;
    assert!(
        p.count("ul.tree ul.tree h4").await > 0,
        "SLSA's sections nest"
    );
    p.check("framework-builtin").await;

    // A requirement: in the list, then its details with its fully qualified name to
    // copy, then Coverage.
    p.go("/requirements?kind=custom").await;
    p.wait_text("table.grid th a", "no-vulns-high").await;
    p.check("requirements").await;
    p.go("/requirements/no-vulns-high").await;
    p.wait_text("ul.fqn code", "acme-secure/no-vulns-high")
        .await;
    p.check("requirement").await;
    p.go("/requirements/no-vulns-high?tab=coverage").await;
    p.wait_text("table.coverage th a", "api").await;
    p.c.find(Locator::Css("#cov-status"))
        .await
        .unwrap()
        .select_by_value("NONE")
        .await
        .unwrap();
    p.wait_count(
        r#"table.coverage th a[href="/projects/api"]"#,
        0,
        "the NONE filter leaves api out",
    )
    .await;
    p.wait_text("table.coverage th a", "web").await;
    p.c.find(Locator::Css("#cov-status"))
        .await
        .unwrap()
        .select_by_value("")
        .await
        .unwrap();
    p.wait_text("table.coverage th a", "api").await;
    // The count over every project, and where this page stands (decision 0038).
    p.wait_text(".summary", "2 projects").await;
    p.wait_text(".pager .count", "Showing 1–2 of 2 projects")
        .await;
    p.check("coverage").await;

    // Edit the custom requirement: the preview follows the draft before anything is saved.
    p.go("/requirements/no-vulns-high/edit").await;
    p.wait_text("#preview", "Coverage of the draft").await;
    let before_edit = p.text("#preview").await;
    let doc = p.c.find(Locator::Css("#doc")).await.unwrap();
    let yaml = doc.prop("value").await.unwrap().unwrap_or_default();
    doc.clear().await.unwrap();
    assert!(yaml.contains("HIGH"), "{yaml}");
    doc.send_keys(&yaml.replace("HIGH", "LOW")).await.unwrap();
    for _ in 0..50 {
        if p.text("#preview").await != before_edit {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_ne!(
        p.text("#preview").await,
        before_edit,
        "the preview follows the draft"
    );
    p.wait_text("#preview .chip", "PARAMETER_MISMATCH").await;
    p.check("requirement-edit").await;
    let stored = env
        .json(&["requirement", "describe", "no-vulns-high"])
        .to_string();
    assert!(
        stored.contains("HIGH") && !stored.contains("LOW"),
        "nothing saved before Save: {stored}"
    );

    // A project: versions, workflows, its attestation and evaluations.
    p.go("/projects").await;
    p.wait_text("table.grid th a", "api").await;
    p.wait_text(".pager .count", "Showing 1–1 of 1 project")
        .await;
    p.check("projects").await;
    p.go("/projects/api").await;
    p.wait_text(".attestation td", "VIOLATION").await;
    p.check("project").await;

    // The audit log with the chain's verification.
    p.go("/audit").await;
    p.wait_text(".notice", "Chain verified").await;
    p.check("audit").await;
    p.c.find(Locator::Css("#action"))
        .await
        .unwrap()
        .select_by_value("exception.create")
        .await
        .unwrap();
    p.click("form.filters button[type=submit]").await;
    p.wait_count("table.grid tbody tr", 1, "one exception recorded")
        .await;
    p.wait_text("p.muted.small", "1 of ").await;

    // Settings: a token created shows its secret once; trusted keys list ci.
    p.go("/settings/tokens").await;
    p.fill("#tk-name", "release-bot").await;
    p.click("#tk-expires ~ button").await;
    p.wait_text(".secret", "shown only once").await;
    p.check("tokens").await;
    p.go("/settings/keys").await;
    p.wait_text("table.grid th", "ci").await;
    p.check("keys").await;

    // A viewer: no write control on the page, and a forged post is refused.
    let out = env.ok(&["token", "create", "--name", "auditor", "--role", "viewer"]);
    let viewer = out
        .split_whitespace()
        .find(|w| w.starts_with("comply_"))
        .unwrap_or_else(|| panic!("no token in: {out}"))
        .to_owned();
    p.click(".who button").await;
    p.wait_text("h1", "Sign in").await;
    p.fill("#token", &viewer).await;
    p.click("form.card button[type=submit]").await;
    p.wait_text("h1", "Overview").await;
    p.go(r#"/products/portal?version=1.0&r=no-vulns-high&p=api"#)
        .await;
    p.wait_text("#detail h2", "no-vulns-high").await;
    assert_eq!(
        p.count("main form[method=post]").await,
        0,
        "a viewer sees no write control"
    );
    let csrf: String = serde_json::from_value(
        p.c.execute(
            "return document.querySelector('input[name=csrf]').value",
            vec![],
        )
        .await
        .unwrap(),
    )
    .unwrap();
    let status = p
        .post_status(
            "/products/portal/exceptions",
            &format!("version=1.0&requirement=no-vulns-high&project=web&reason=forged&csrf={csrf}"),
        )
        .await;
    assert_eq!(status, 403, "a viewer's forged form post");
    assert_eq!(
        env.json(&[
            "exception",
            "list",
            "--product",
            "portal",
            "--version",
            "1.0"
        ]),
        after
    );
    client.close().await.unwrap();
}
