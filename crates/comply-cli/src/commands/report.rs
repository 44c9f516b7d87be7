//! `comply report …`: evidence packs written to a directory or a zip, and checked from
//! their files alone (decision 0030).

use crate::cli::{Global, Output, ReportArgs, ReportCommand, ReportFormat, ReportVerifyArgs};
use crate::client::{Client, query};
use crate::error::{CliError, Result};
use crate::output::emit;
use base64::Engine as _;
use comply_attest::{PublicKey, SigningKey};
use comply_server::PackAnswer;
use comply_server::pack::{self, Files};
use serde_json::json;
use std::io::{Read as _, Write as _};
use std::path::{Component, Path, PathBuf};

pub fn run(global: &Global, args: ReportArgs) -> Result<()> {
    match args.command {
        Some(ReportCommand::Verify(v)) => verify(global.output, v),
        None => write(&mut Client::from_global(global)?, global.output, args),
    }
}

fn write(client: &mut Client, output: Output, args: ReportArgs) -> Result<()> {
    let product = args.product.unwrap_or_default();
    let out = args.out.unwrap_or_default();
    // Refuse before asking the server: nothing is written over.
    if out.exists() {
        return Err(CliError::usage(format!(
            "{} already exists; choose a new directory or .zip file",
            out.display()
        )));
    }
    let key = args
        .key
        .as_deref()
        .map(|path| {
            let text = std::fs::read_to_string(path)
                .map_err(|e| CliError::usage(format!("{}: {e}", path.display())))?;
            SigningKey::from_pem(&text)
                .map_err(|e| CliError::usage(format!("{}: {e}", path.display())))
        })
        .transpose()?;
    let q = query(&[
        ("version", args.version.as_deref()),
        ("framework", args.framework.as_deref()),
        ("at", args.at.as_deref()),
    ]);
    let path = client.org_path(&format!("/products/{product}/report{q}"))?;
    let answer: PackAnswer = serde_json::from_value(client.get(&path)?)
        .map_err(|e| CliError::failed(format!("the server's pack does not decode: {e}")))?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut files = Files::new();
    for f in answer.files {
        safe_path(&f.path)?;
        let bytes = b64
            .decode(&f.content)
            .map_err(|e| CliError::failed(format!("{}: not base64: {e}", f.path)))?;
        files.insert(f.path, bytes);
    }
    if let Some(key) = &key {
        pack::sign(&mut files, key);
    }
    if args.format == ReportFormat::Oscal {
        let document = files
            .get(pack::OSCAL)
            .ok_or_else(|| CliError::failed("the server's pack holds no OSCAL document"))?;
        let tmp = staging(&out);
        std::fs::write(&tmp, document)
            .and_then(|()| std::fs::rename(&tmp, &out))
            .map_err(|e| io_error(&out, e))?;
        let summary = json!({"out": out.display().to_string(), "format": "oscal",
                             "product": answer.product, "version": answer.version, "at": answer.at});
        return emit(output, &summary, |s| {
            format!(
                "Wrote OSCAL Assessment Results of {} {} at {} to {}\n",
                s["product"].as_str().unwrap_or_default(),
                s["version"].as_str().unwrap_or_default(),
                s["at"].as_str().unwrap_or_default(),
                s["out"].as_str().unwrap_or_default()
            )
        });
    }
    let zip = out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    if zip {
        write_zip(&files, &out)?;
    } else {
        write_dir(&files, &out)?;
    }
    let report = pack::verify(&files, None);
    let summary = json!({
        "out": out.display().to_string(),
        "product": answer.product,
        "version": answer.version,
        "at": answer.at,
        "files": files.len(),
        "signer": report.signer,
    });
    emit(output, &summary, |s| {
        format!(
            "Wrote the evidence pack of {} {} at {} to {} ({} files; manifest signed by {})\n",
            s["product"].as_str().unwrap_or_default(),
            s["version"].as_str().unwrap_or_default(),
            s["at"].as_str().unwrap_or_default(),
            s["out"].as_str().unwrap_or_default(),
            s["files"],
            s["signer"].as_str().unwrap_or("?"),
        )
    })
}

/// Pack paths are relative and stay inside the pack.
fn safe_path(path: &str) -> Result<()> {
    let p = Path::new(path);
    if path.is_empty() || p.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(CliError::failed(format!(
            "the pack names a file outside itself: {path:?}"
        )));
    }
    Ok(())
}

/// A sibling of `out` to write into first, renamed at the end: a failed write leaves
/// nothing at `out`.
fn staging(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "pack".into());
    out.with_file_name(format!(".{name}.partial-{}", std::process::id()))
}

fn io_error(path: &Path, e: impl std::fmt::Display) -> CliError {
    CliError::failed(format!("{}: {e}", path.display()))
}

fn write_dir(files: &Files, out: &Path) -> Result<()> {
    let tmp = staging(out);
    let result = (|| {
        for (path, bytes) in files {
            let target = tmp.join(path);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io_error(parent, e))?;
            }
            std::fs::write(&target, bytes).map_err(|e| io_error(&target, e))?;
        }
        std::fs::rename(&tmp, out).map_err(|e| io_error(out, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

fn write_zip(files: &Files, out: &Path) -> Result<()> {
    let tmp = staging(out);
    let result = (|| {
        let file = std::fs::File::create(&tmp).map_err(|e| io_error(&tmp, e))?;
        let mut zip = zip::ZipWriter::new(file);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (path, bytes) in files {
            zip.start_file(path.as_str(), options)
                .map_err(|e| io_error(out, e))?;
            zip.write_all(bytes).map_err(|e| io_error(out, e))?;
        }
        zip.finish().map_err(|e| io_error(out, e))?;
        std::fs::rename(&tmp, out).map_err(|e| io_error(out, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Every file of a pack directory or zip, by its path inside the pack.
fn read_pack(path: &Path) -> Result<Files> {
    let mut files = Files::new();
    if path.is_dir() {
        let mut pending = vec![path.to_path_buf()];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).map_err(|e| io_error(&dir, e))? {
                let entry = entry.map_err(|e| io_error(&dir, e))?;
                let p = entry.path();
                if p.is_dir() {
                    pending.push(p);
                } else {
                    let rel = p
                        .strip_prefix(path)
                        .expect("under the pack")
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect::<Vec<_>>()
                        .join("/");
                    files.insert(rel, std::fs::read(&p).map_err(|e| io_error(&p, e))?);
                }
            }
        }
        return Ok(files);
    }
    let file = std::fs::File::open(path)
        .map_err(|e| CliError::usage(format!("{}: {e}", path.display())))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| {
        CliError::usage(format!(
            "{}: not a pack directory or zip: {e}",
            path.display()
        ))
    })?;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| io_error(path, e))?;
        if entry.is_dir() {
            continue;
        }
        let name = entry.name().to_owned();
        safe_path(&name)?;
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| io_error(path, e))?;
        files.insert(name, bytes);
    }
    Ok(files)
}

fn verify(output: Output, args: ReportVerifyArgs) -> Result<()> {
    let files = read_pack(&args.pack)?;
    let signer = args
        .signer
        .as_deref()
        .map(|p| {
            let text = std::fs::read_to_string(p)
                .map_err(|e| CliError::usage(format!("{}: {e}", p.display())))?;
            PublicKey::from_pem(&text).map_err(|e| CliError::usage(format!("{}: {e}", p.display())))
        })
        .transpose()?;
    let report = pack::verify(&files, signer.as_ref());
    let value = serde_json::to_value(&report).expect("reports serialize");
    if !report.ok() {
        if output == Output::Json {
            println!("{}", serde_json::to_string_pretty(&value).expect("JSON"));
        }
        return Err(CliError::failed(format!(
            "the pack does not verify: {} problem(s)",
            report.problems.len()
        ))
        .with_details(report.problems.clone()));
    }
    emit(output, &value, |_| {
        let mut text = String::new();
        for c in &report.checked {
            text.push_str(&format!("ok    {c}\n"));
        }
        for w in &report.warnings {
            text.push_str(&format!("note  {w}\n"));
        }
        text.push_str(&format!(
            "The pack verifies; its manifest is signed by {}: compare with the issuer's key.\n",
            report.signer.as_deref().unwrap_or("?")
        ));
        text
    })
}
