//! Connection limits over real TCP (issue #15, defect 5): a client that never finishes
//! its headers, or keeps an idle connection, is disconnected after the header-read
//! timeout instead of holding memory and a descriptor forever.

use comply_server::{AppState, ConnectionLimits, bootstrap, load_builtins, serve_with};
use comply_store::Store;
use comply_store::testing::TestDb;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

async fn start(limits: ConnectionLimits) -> (String, TestDb) {
    let db = TestDb::sqlite();
    let store = Store::connect(&db.url).await.unwrap();
    load_builtins(&store).await.unwrap();
    bootstrap(&store).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(serve_with(
        listener,
        AppState::new(store),
        std::future::pending(),
        limits,
    ));
    (addr, db)
}

/// Reads until the server closes the connection; how long that took.
fn until_closed(stream: &mut TcpStream, give_up: Duration) -> Option<Duration> {
    let started = Instant::now();
    stream.set_read_timeout(Some(give_up)).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Some(started.elapsed()),
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Some(started.elapsed());
            }
            Err(_) => return None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_connections_are_closed() {
    let limits = ConnectionLimits {
        header_read_timeout: Duration::from_millis(300),
        ..ConnectionLimits::default()
    };
    let (addr, _db) = start(limits).await;
    tokio::task::spawn_blocking(move || {
        // Half a header, never finished.
        let mut slow = TcpStream::connect(&addr).unwrap();
        slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .unwrap();
        let closed = until_closed(&mut slow, Duration::from_secs(10));
        assert!(closed.is_some(), "a half-sent header is cut off");

        // A full request, answered, then silence on a keep-alive connection.
        let mut idle = TcpStream::connect(&addr).unwrap();
        idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut buf = [0u8; 1024];
        let n = idle.read(&mut buf).unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        let closed = until_closed(&mut idle, Duration::from_secs(10));
        assert!(closed.is_some(), "an idle keep-alive connection is closed");
    })
    .await
    .unwrap();
}
