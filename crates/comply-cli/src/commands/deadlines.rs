//! `comply deadlines`.

use crate::cli::{DeadlinesArgs, Output};
use crate::client::{Client, query};
use crate::error::Result;
use crate::output::{emit, table, text};

pub fn run(client: &mut Client, output: Output, args: DeadlinesArgs) -> Result<()> {
    let q = query(&[
        ("within", Some(args.within.as_str())),
        ("product", args.product.as_deref()),
        ("at", args.at.as_deref()),
    ]);
    let path = client.org_path(&format!("/deadlines{q}"))?;
    let answer = client.get(&path)?;
    emit(output, &answer, |a| {
        let rows: Vec<Vec<String>> = a["deadlines"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| {
                vec![
                    text(&d["at"]),
                    text(&d["kind"]).replace('_', " "),
                    format!("{} {}", text(&d["product"]), text(&d["version"])),
                    text(&d["requirement"]),
                    d["project"].as_str().unwrap_or("(product)").to_owned(),
                    text(&d["subject"]),
                    text(&d["status"]),
                ]
            })
            .collect();
        if rows.is_empty() {
            return format!(
                "Nothing changes by itself between {} and {}\n",
                text(&a["from"]),
                text(&a["to"])
            );
        }
        table(
            &[
                "when",
                "what",
                "product",
                "requirement",
                "project",
                "of",
                "now",
            ],
            rows,
        )
    })
}
