//! Package URLs as every material parser reads and writes them: one behaviour through
//! the `packageurl` crate (the purl specification's percent-decoding and per-type
//! normalization), so a component named in an SBOM, a SARIF result and a VEX statement
//! compares equal.

use packageurl::PackageUrl;
use std::str::FromStr;

/// Name and version of a package URL (`pkg:type/namespace/name@version?q#sub`), decoded;
/// `None` for text that is not a package URL.
pub(super) fn name_and_version(purl: &str) -> Option<(String, Option<String>)> {
    let parsed = PackageUrl::from_str(purl).ok()?;
    let version = parsed
        .version()
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    Some((parsed.name().to_owned(), version))
}

/// A versionless package URL for a GitHub advisory ecosystem and its package name as the
/// advisory spells it (`@scope/name` for npm, `group:artifact` for Maven).
pub(super) fn for_advisory_package(ecosystem: &str, name: &str) -> Option<String> {
    let ty = match ecosystem.to_ascii_lowercase().as_str() {
        "npm" => "npm",
        "pip" | "pypi" => "pypi",
        "maven" => "maven",
        "nuget" => "nuget",
        "rubygems" => "gem",
        "go" => "golang",
        "rust" | "cargo" => "cargo",
        "composer" => "composer",
        "pub" => "pub",
        "swift" => "swift",
        _ => return None,
    };
    // The namespace is what precedes the last separator of the advisory's name.
    let split = match ty {
        "maven" => name.split_once(':'),
        _ => name.rsplit_once('/'),
    };
    let (namespace, base) = match split {
        Some((ns, base)) if !ns.is_empty() && !base.is_empty() => (Some(ns), base),
        _ => (None, name),
    };
    let mut purl = PackageUrl::new(ty, base).ok()?;
    if let Some(ns) = namespace {
        purl.with_namespace(ns).ok()?;
    }
    Some(purl.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_versions_are_decoded() {
        type Expected<'a> = Option<(&'a str, Option<&'a str>)>;
        let cases: &[(&str, Expected)] = &[
            (
                "pkg:maven/org.eclipse.jgit/org.eclipse.jgit@6.10.0.202406032230-r",
                Some(("org.eclipse.jgit", Some("6.10.0.202406032230-r"))),
            ),
            (
                "pkg:npm/%40angular/core@1.2.3?x=y#sub",
                Some(("core", Some("1.2.3"))),
            ),
            (
                "pkg:maven/org.acme/component1@1.1.4?type=jar",
                Some(("component1", Some("1.1.4"))),
            ),
            ("pkg:golang/ariga.io/atlas", Some(("atlas", None))),
            ("pkg:npm/left-pad", Some(("left-pad", None))),
            (
                "pkg:golang/github.com/a/b@v1.2.3%2Bincompatible",
                Some(("b", Some("v1.2.3+incompatible"))),
            ),
            // The specification normalizes PyPI names.
            ("pkg:pypi/Foo_Bar@1.0", Some(("foo-bar", Some("1.0")))),
            ("7f2ee811-6b35", None),
            ("pkg:x", None),
        ];
        for (purl, want) in cases {
            let want = want.map(|(n, v)| (n.to_owned(), v.map(str::to_owned)));
            assert_eq!(name_and_version(purl), want, "{purl}");
        }
    }

    #[test]
    fn advisory_packages_become_purls_that_read_back() {
        for (eco, name, want, base) in [
            ("npm", "@types/node", "pkg:npm/%40types/node", "node"),
            ("npm", "left-pad", "pkg:npm/left-pad", "left-pad"),
            ("maven", "org.a:b", "pkg:maven/org.a/b", "b"),
            ("go", "github.com/a/b", "pkg:golang/github.com/a/b", "b"),
            ("pip", "Foo_Bar", "pkg:pypi/foo-bar", "foo-bar"),
        ] {
            let purl = for_advisory_package(eco, name).unwrap();
            assert_eq!(purl, want);
            assert_eq!(name_and_version(&purl), Some((base.to_owned(), None)));
        }
        assert_eq!(for_advisory_package("other", "x"), None);
    }
}
