//! Paginated listings: the catalog of a real registry with a small page
//! size, the tags of a real registry (which ignores `n` for tags/list), and
//! tag pagination with `Link` headers scripted on the fault server.

mod support;

#[path = "support/fault.rs"]
mod fault;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use fault::{FaultServer, Route, Step};
use registry_client::{Client, ErrorKind, Page};
use support::seed::{self, MANY_TAGS};
use support::{Registry, ALICE};

fn builder(url: &str) -> registry_client::ClientBuilder {
    Client::builder(url)
        .timeout(Duration::from_secs(5))
        .max_retries(0)
        .retry_delay(Duration::from_millis(1))
}

fn query_of(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn check_catalog_pages(c: &Client) {
    let all = seed::all_repositories();
    let pages: Vec<Page> = c.catalog_pages().map(|p| p.unwrap()).collect();
    assert!(pages.len() > 3, "{} pages", pages.len());
    assert_eq!(pages.len(), all.len().div_ceil(7));
    let mut seen: Vec<String> = Vec::new();
    for (i, p) in pages.iter().enumerate() {
        assert_eq!(p.page_size, Some(7), "page {i}");
        assert!(!p.items.is_empty() && p.items.len() <= 7, "page {i}: {p:?}");
        let last_page = i + 1 == pages.len();
        assert_eq!(p.next.is_none(), last_page, "page {i}: {p:?}");
        if let Some(next) = &p.next {
            // The next link is absolute, on the registry, asking for the
            // page after this one's last item.
            assert!(next.starts_with(c.registry_url().as_str()), "{next}");
            let q = query_of(next);
            assert!(q.contains(&("n".into(), "7".into())), "{next}");
            assert!(
                q.contains(&("last".into(), p.items.last().unwrap().clone())),
                "{next}"
            );
        }
        if i == 0 {
            assert_eq!(p.last, None);
        } else {
            assert_eq!(p.last.as_ref(), seen.last(), "page {i}");
        }
        seen.extend(p.items.iter().cloned());
    }
    assert_eq!(seen, all, "every repository exactly once, in order");
    assert_eq!(c.list_repositories().unwrap(), all);
}

#[test]
fn catalog_in_pages_of_seven_open_registry() {
    let reg = Registry::open();
    let c = builder(&reg.url()).page_size(7).build().unwrap();
    check_catalog_pages(&c);

    // One page by hand, starting after a given name.
    let all = seed::all_repositories();
    let page = c.catalog_page(Some(7), Some(&all[9])).unwrap();
    assert_eq!(page.items, all[10..17]);
    assert_eq!(page.page_size, Some(7));
    assert_eq!(page.last.as_deref(), Some(all[9].as_str()));
    assert!(page.next.is_some());
}

#[test]
fn catalog_in_pages_of_seven_token_registry() {
    let reg = Registry::token();
    let c = builder(&reg.url())
        .basic_auth(ALICE.name, ALICE.password)
        .page_size(7)
        .build()
        .unwrap();
    check_catalog_pages(&c);
    // Every page used the one catalog token.
    assert_eq!(
        reg.token_server().requests_for_scope("registry:catalog:*"),
        1,
        "{:?}",
        reg.token_server().requests()
    );
}

#[test]
fn many_tags_are_all_listed() {
    let reg = Registry::open();
    for c in [
        builder(&reg.url()).build().unwrap(),
        builder(&reg.url()).page_size(7).build().unwrap(),
    ] {
        let mut tags = c.list_tags(MANY_TAGS).unwrap();
        assert_eq!(tags.len(), seed::MANY_TAGS_COUNT);
        tags.sort();
        assert_eq!(tags, seed::many_tags());
    }
}

fn tags_body(tags: &[&str]) -> String {
    serde_json::json!({"name": "x/app", "tags": tags}).to_string()
}

fn tags_page(tags: &[&str], link: Option<&str>) -> Step {
    let body = tags_body(tags);
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(l) = link {
        headers.push(("Link", l));
    }
    fault::respond(200, &headers, body)
}

#[test]
fn tag_pages_follow_relative_links() {
    let srv = FaultServer::start(vec![
        tags_page(
            &["a", "b"],
            Some(r#"</v2/x/app/tags/list?n=2&last=b>; rel="next""#),
        ),
        // Several links, bare rel, next not first.
        tags_page(
            &["c", "d"],
            Some(
                r#"</v2/x/app/tags/list?n=2>; rel="first", </v2/x/app/tags/list?n=2&last=d>; rel=next"#,
            ),
        ),
        tags_page(&["e"], None),
    ]);
    let c = builder(&srv.url()).page_size(2).build().unwrap();
    assert_eq!(c.list_tags("x/app").unwrap(), ["a", "b", "c", "d", "e"]);
    let targets: Vec<String> = srv.requests().iter().map(|r| r.target.clone()).collect();
    assert_eq!(targets.len(), 3, "{targets:?}");
    assert!(
        targets
            .iter()
            .all(|t| t.starts_with("/v2/x/app/tags/list?")),
        "{targets:?}"
    );
    assert!(targets[0].contains("n=2") && !targets[0].contains("last="));
    assert!(targets[1].contains("last=b"), "{targets:?}");
    assert!(targets[2].contains("last=d"), "{targets:?}");
}

#[test]
fn tag_pages_report_each_page() {
    let srv = FaultServer::start(vec![
        tags_page(
            &["a", "b"],
            Some(r#"</v2/x/app/tags/list?n=2&last=b>; rel="next""#),
        ),
        tags_page(&["c"], None),
    ]);
    let c = builder(&srv.url()).page_size(2).build().unwrap();
    let pages: Vec<Page> = c.tag_pages("x/app").unwrap().map(|p| p.unwrap()).collect();
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[0].items, ["a", "b"]);
    assert_eq!(
        pages[0].next.as_deref(),
        Some(format!("{}/v2/x/app/tags/list?n=2&last=b", srv.url()).as_str())
    );
    assert_eq!(pages[0].page_size, Some(2));
    assert_eq!(pages[1].items, ["c"]);
    assert_eq!(pages[1].next, None);
    assert_eq!(pages[1].last.as_deref(), Some("b"));
}

/// A tiny registry-ish server that pages tags with ABSOLUTE next links
/// naming its own port (which the fault server's static script cannot know
/// in advance). One request per connection.
struct AbsoluteLinkServer {
    port: u16,
    stop: Arc<AtomicBool>,
    targets: Arc<Mutex<Vec<String>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl AbsoluteLinkServer {
    fn start() -> AbsoluteLinkServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let targets = Arc::new(Mutex::new(Vec::new()));
        let (s, t) = (stop.clone(), targets.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = conn else { continue };
                stream
                    .set_read_timeout(Some(Duration::from_secs(2)))
                    .unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let target = line.split(' ').nth(1).unwrap_or("").to_string();
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                }
                t.lock().unwrap().push(target.clone());
                let base = format!("http://127.0.0.1:{port}/v2/x/app/tags/list");
                let (tags, link) = if target.contains("last=p1") {
                    (
                        vec!["p2a", "p2b"],
                        Some(format!("<{base}?n=2&last=p2>; rel=\"next\"")),
                    )
                } else if target.contains("last=p2") {
                    (vec!["p3"], None)
                } else {
                    (
                        vec!["p1a", "p1b"],
                        Some(format!("<{base}?n=2&last=p1>; rel=\"next\"")),
                    )
                };
                let body = tags_body(&tags);
                let mut resp = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
                    body.len()
                );
                if let Some(l) = link {
                    resp.push_str(&format!("Link: {l}\r\n"));
                }
                resp.push_str("\r\n");
                resp.push_str(&body);
                let _ = stream.write_all(resp.as_bytes());
            }
        });
        AbsoluteLinkServer {
            port,
            stop,
            targets,
            thread: Some(thread),
        }
    }
}

impl Drop for AbsoluteLinkServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn tag_pages_follow_absolute_links() {
    let srv = AbsoluteLinkServer::start();
    let c = builder(&format!("http://127.0.0.1:{}", srv.port))
        .page_size(2)
        .build()
        .unwrap();
    assert_eq!(
        c.list_tags("x/app").unwrap(),
        ["p1a", "p1b", "p2a", "p2b", "p3"]
    );
    let targets = srv.targets.lock().unwrap().clone();
    assert_eq!(targets.len(), 3, "{targets:?}");
    assert!(targets[1].contains("last=p1") && targets[2].contains("last=p2"));
}

#[test]
fn next_link_to_another_host_is_an_error() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let links = [
        // Another host.
        "<http://127.0.0.2:5000/v2/x/app/tags/list?last=b>; rel=\"next\"".to_string(),
        "<http://evil.example/v2/x/app/tags/list?last=b>; rel=\"next\"".to_string(),
        // Same host, another scheme (and port).
        "<https://127.0.0.1/v2/x/app/tags/list?last=b>; rel=\"next\"".to_string(),
        // Same host and scheme, another port.
        format!("<http://127.0.0.1:{port}/v2/x/app/tags/list?last=b>; rel=\"next\""),
        // Protocol-relative, to another host.
        "<//evil.example/v2/x/app/tags/list?last=b>; rel=\"next\"".to_string(),
    ];
    for link in links {
        let srv = FaultServer::start(vec![tags_page(&["a", "b"], Some(&link))]);
        let c = builder(&srv.url()).build().unwrap();
        let e = c.list_tags("x/app").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode, "{link}: {e}");
        assert!(e.to_string().contains("refusing"), "{link}: {e}");
        assert_eq!(srv.request_count(), 1, "{link}: followed the link");
    }
}

fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(secs))
        .expect("pagination did not end: hang")
}

#[test]
fn link_loop_is_an_error_not_a_hang() {
    // Page 1 links to page 2, page 2 links back to page 1, forever.
    let srv = Arc::new(FaultServer::start_routed_repeating(vec![
        (
            Route::when(|r| r.query().is_some_and(|q| q.contains("last=b"))),
            vec![tags_page(
                &["c", "d"],
                Some(r#"</v2/x/app/tags/list>; rel="next""#),
            )],
        ),
        (
            Route::prefix("/v2/"),
            vec![tags_page(
                &["a", "b"],
                Some(r#"</v2/x/app/tags/list?last=b>; rel="next""#),
            )],
        ),
    ]));
    let url = srv.url();
    let e = within(10, move || {
        builder(&url)
            .build()
            .unwrap()
            .list_tags("x/app")
            .unwrap_err()
    });
    assert_eq!(e.kind(), ErrorKind::Decode, "{e}");
    assert!(e.to_string().contains("loop"), "{e}");
    assert_eq!(srv.request_count(), 2, "{:?}", srv.requests());

    // The iterator hands out both pages, then the error, then ends.
    let url = srv.url();
    let results = within(10, move || {
        let c = builder(&url).build().unwrap();
        c.tag_pages("x/app")
            .unwrap()
            .take(10)
            .map(|p| p.map(|p| p.items))
            .collect::<Vec<_>>()
    });
    assert_eq!(results.len(), 3, "{results:?}");
    assert_eq!(results[0].as_ref().unwrap(), &["a", "b"]);
    assert_eq!(results[1].as_ref().unwrap(), &["c", "d"]);
    assert_eq!(results[2].as_ref().unwrap_err().kind(), ErrorKind::Decode);
}

#[test]
fn link_to_the_same_page_is_an_error_not_a_hang() {
    let srv = FaultServer::start_repeating(vec![tags_page(
        &["a"],
        Some(r#"</v2/x/app/tags/list?n=3>; rel="next""#),
    )]);
    let url = srv.url();
    let e = within(10, move || {
        builder(&url)
            .page_size(3)
            .build()
            .unwrap()
            .list_tags("x/app")
            .unwrap_err()
    });
    assert_eq!(e.kind(), ErrorKind::Decode, "{e}");
    assert_eq!(srv.request_count(), 1);
}

#[test]
fn malformed_link_header_is_a_decode_error() {
    let srv = FaultServer::start(vec![tags_page(
        &["a"],
        Some("/v2/x/app/tags/list?last=a; rel=next"),
    )]);
    let c = builder(&srv.url()).build().unwrap();
    let e = c.list_tags("x/app").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode, "{e}");
}
