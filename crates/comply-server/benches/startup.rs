//! Start-up cost of the built-in content: parsing, compiling and validating everything
//! under `content/`, and making the stored built-ins equal to it (first start, and every
//! later start when nothing changed). Target: under 200 ms in all.
//!
//! `cargo bench -p comply-server --bench startup`

use comply_store::Store;
use comply_store::testing::TempDir;

fn main() {
    divan::main();
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn fresh_store(dir: &TempDir) -> Store {
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("comply.db").display()
    );
    Store::connect(&url).await.unwrap()
}

/// Parse + compile every policy's Rego + plan all content as one apply.
#[divan::bench(sample_count = 10)]
fn validate_content() -> usize {
    comply_policy::validate::builtin_resources().unwrap().len()
}

/// A first start: every built-in resource is written, with its audit event.
#[divan::bench(sample_count = 10)]
fn first_start_sqlite(bencher: divan::Bencher) {
    let rt = runtime();
    bencher
        .with_inputs(|| {
            let dir = TempDir::new();
            let store = rt.block_on(fresh_store(&dir));
            (dir, store)
        })
        .bench_local_values(|(dir, store)| {
            rt.block_on(comply_server::load_builtins(&store)).unwrap();
            (dir, store)
        });
}

/// Every later start: the content is compared with what is stored and nothing changes.
#[divan::bench(sample_count = 10)]
fn restart_sqlite(bencher: divan::Bencher) {
    let rt = runtime();
    let dir = TempDir::new();
    let store = rt.block_on(fresh_store(&dir));
    rt.block_on(comply_server::load_builtins(&store)).unwrap();
    bencher.bench_local(|| rt.block_on(comply_server::load_builtins(&store)).unwrap());
}
