#![allow(dead_code)]
//! A recording TCP relay in front of a real (plain-http) registry: every
//! byte is passed through unchanged, and the request line of every request
//! the client sent is recorded, so a test can count what was asked for
//! (`GET /v2/app/blobs/sha256:…`). Include it with
//! `#[path = "support/proxy.rs"] mod proxy;`.
//!
//! Bounded: request heads are at most [`MAX_HEAD`] bytes, every socket has
//! a read timeout, and dropping the relay stops accepting and shuts every
//! connection it holds.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// Largest request head relayed.
pub const MAX_HEAD: usize = 64 * 1024;
/// Read timeout of every relayed socket.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    requests: Mutex<Vec<String>>,
    streams: Mutex<Vec<TcpStream>>,
}

/// A relay on `127.0.0.1` (OS-picked port) to `upstream`.
pub struct Relay {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Relay {
    /// Relays to `upstream` (`127.0.0.1:PORT`).
    pub fn start(upstream: &str) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("relay: bind");
        let addr = listener.local_addr().expect("relay: local_addr");
        let shared = Arc::new(Shared::default());
        let s = Arc::clone(&shared);
        let upstream = upstream.to_string();
        thread::spawn(move || {
            for conn in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = conn else { continue };
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                for st in [&client, &server] {
                    let _ = st.set_read_timeout(Some(READ_TIMEOUT));
                    if let Ok(c) = st.try_clone() {
                        s.streams.lock().unwrap().push(c);
                    }
                }
                let (Ok(client2), Ok(server2)) = (client.try_clone(), server.try_clone()) else {
                    continue;
                };
                // Answers flow back untouched.
                thread::spawn(move || {
                    let mut from = server2;
                    let mut to = client2;
                    let _ = io::copy(&mut from, &mut to);
                    let _ = to.shutdown(Shutdown::Write);
                });
                let s2 = Arc::clone(&s);
                thread::spawn(move || relay_requests(client, server, &s2));
            }
        });
        Relay { addr, shared }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The request lines seen so far (`GET /v2/… HTTP/1.1`).
    pub fn requests(&self) -> Vec<String> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// Forgets the requests seen so far.
    pub fn clear(&self) {
        self.shared.requests.lock().unwrap().clear();
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(self.addr);
        for s in self.shared.streams.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

/// Copies requests from `client` to `server`, head by head, recording each
/// request line; bodies (by `Content-Length`) are passed on as they are.
fn relay_requests(client: TcpStream, mut server: TcpStream, shared: &Shared) {
    let mut reader = BufReader::new(client);
    loop {
        let mut head = Vec::new();
        loop {
            let mut line = Vec::new();
            match (&mut reader)
                .take((MAX_HEAD - head.len().min(MAX_HEAD)) as u64)
                .read_until(b'\n', &mut line)
            {
                Ok(0) | Err(_) => {
                    let _ = server.shutdown(Shutdown::Write);
                    return;
                }
                Ok(_) => {}
            }
            let end = line == b"\r\n" || line == b"\n";
            head.extend_from_slice(&line);
            if end {
                break;
            }
            if head.len() >= MAX_HEAD {
                let _ = server.shutdown(Shutdown::Both);
                return;
            }
        }
        let text = String::from_utf8_lossy(&head).into_owned();
        let request_line = text.lines().next().unwrap_or("").to_string();
        let body_len: u64 = text
            .lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.trim().parse().ok())
            .unwrap_or(0);
        shared.requests.lock().unwrap().push(request_line);
        if server.write_all(&head).is_err() {
            return;
        }
        let mut body = (&mut reader).take(body_len);
        if io::copy(&mut body, &mut server).is_err() {
            return;
        }
    }
}
