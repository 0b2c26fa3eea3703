//! What regc prints: every value shown to a human made safe for a
//! terminal, JSON, and pull's progress bar.

use std::borrow::Cow;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use registry_client::{ImageInfo, PullProgress, PullReport};

/// How [`escape_controls`] writes a control character.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Escape {
    /// For text lines: `\n`, `\r`, `\t`, else `\u{1b}` (`char::escape_default`).
    Text,
    /// For serialized JSON, where serde_json has escaped C0 inside strings
    /// but left DEL and C1 raw; `\n` stays, as only pretty-printing puts a
    /// raw newline there. Others become `\u00XX`, so the JSON means the same.
    Json,
}

/// The one place where what regc prints for a human is made safe for a
/// terminal: every control character (C0 with newline and tab, DEL, C1) is
/// replaced with a visible escape, so a value from a registry (or the
/// command line) cannot move the cursor, set the title or start a new line
/// that looks like one of regc's own. Other text is left as it is.
pub(crate) fn escape_controls(s: &str, how: Escape) -> Cow<'_, str> {
    if !s
        .chars()
        .any(|c| c.is_control() && !(how == Escape::Json && c == '\n'))
    {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match (how, c) {
            (_, c) if !c.is_control() => out.push(c),
            (Escape::Json, '\n') => out.push('\n'),
            (Escape::Json, c) => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            (Escape::Text, c) => out.extend(c.escape_default()),
        }
    }
    Cow::Owned(out)
}

/// Writes one line of text for a human to stdout, escaped.
pub(crate) fn out_line(text: &str) -> std::io::Result<()> {
    writeln!(
        std::io::stdout().lock(),
        "{}",
        escape_controls(text, Escape::Text)
    )
}

/// Writes one line of text for a human to stderr, escaped. A failure to
/// write there cannot be reported anywhere, so it is ignored.
pub(crate) fn err_line(text: &str) {
    let _ = writeln!(
        std::io::stderr().lock(),
        "{}",
        escape_controls(text, Escape::Text)
    );
}

pub(crate) fn print_json(v: &serde_json::Value) -> std::io::Result<()> {
    let json = serde_json::to_string_pretty(v).map_err(std::io::Error::other)?;
    writeln!(
        std::io::stdout().lock(),
        "{}",
        escape_controls(&json, Escape::Json)
    )
}

pub(crate) fn print_pull(r: &PullReport, dir: &Path, json: bool) -> std::io::Result<()> {
    if json {
        return print_json(&serde_json::json!({
            "layout": dir.display().to_string(),
            "digest": r.digest.to_string(),
            "media_type": r.media_type,
            "size": r.size,
            "ref_name": r.ref_name,
            "manifests": r.manifests.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            "blobs_fetched": r.blobs_fetched,
            "blobs_present": r.blobs_present,
            "bytes_downloaded": r.bytes_downloaded,
            "resumes": r.resumes,
        }));
    }
    out_line(&format!(
        "{}:{} {} ({} blobs fetched, {} already there, {} bytes downloaded)",
        dir.display(),
        r.ref_name,
        r.digest,
        r.blobs_fetched,
        r.blobs_present,
        r.bytes_downloaded
    ))
}

/// A one-line progress bar on stderr, redrawn at most ten times a second.
pub(crate) struct Bar {
    last: Mutex<Option<Instant>>,
}

impl Bar {
    const WIDTH: u64 = 30;

    pub(crate) fn new() -> Bar {
        Bar {
            last: Mutex::new(None),
        }
    }

    pub(crate) fn update(&self, p: &PullProgress<'_>) {
        self.draw(p.done, p.total);
    }

    /// Draws `done` of `total` bytes (at most ten times a second, and
    /// always once when done).
    pub(crate) fn draw(&self, done: u64, total: u64) {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let finished = done >= total;
        if !finished && last.is_some_and(|t| now.duration_since(t) < Duration::from_millis(100)) {
            return;
        }
        *last = Some(now);
        // u128: `done * WIDTH` cannot overflow; min() keeps a bar full
        // even if done were past total.
        let filled = if total == 0 {
            Bar::WIDTH
        } else {
            (u128::from(done) * u128::from(Bar::WIDTH) / u128::from(total))
                .min(u128::from(Bar::WIDTH)) as u64
        };
        let percent = if total == 0 {
            100
        } else {
            (u128::from(done) * 100 / u128::from(total)).min(100)
        };
        let bar: String = (0..Bar::WIDTH)
            .map(|i| if i < filled { '#' } else { ' ' })
            .collect();
        let _ = write!(
            std::io::stderr().lock(),
            "\r[{bar}] {percent:>3}% {} / {}",
            mib(done),
            mib(total)
        );
    }

    pub(crate) fn finish(&self) {
        if self
            .last
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
        {
            let _ = writeln!(std::io::stderr().lock());
        }
    }
}

pub(crate) fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

pub(crate) fn print_list(items: &[String], json: bool) -> std::io::Result<()> {
    if json {
        return print_json(&serde_json::json!(items));
    }
    items.iter().try_for_each(|i| out_line(i))
}

pub(crate) fn print_inspect(i: &ImageInfo) -> std::io::Result<()> {
    let platform = match &i.variant {
        Some(v) => format!("{}/{}/{v}", i.os, i.architecture),
        None => format!("{}/{}", i.os, i.architecture),
    };
    let mut lines = vec![
        format!("digest:       {}", i.digest),
        format!("media type:   {}", i.media_type),
        format!("platform:     {platform}"),
        format!("created:      {}", i.created.as_deref().unwrap_or("-")),
        format!("author:       {}", i.author.as_deref().unwrap_or("-")),
        format!("size:         {} bytes", i.size),
        format!("entrypoint:   {:?}", i.entrypoint),
        format!("cmd:          {:?}", i.cmd),
        format!("working dir:  {}", i.working_dir.as_deref().unwrap_or("-")),
        format!("user:         {}", i.user.as_deref().unwrap_or("-")),
    ];
    lines.extend(i.env.iter().map(|e| format!("env:          {e}")));
    lines.extend(
        i.labels
            .iter()
            .map(|(k, v)| format!("label:        {k}={v}")),
    );
    lines.extend(
        i.layers
            .iter()
            .map(|l| format!("layer:        {} {} {}", l.digest, l.size, l.media_type)),
    );
    lines.iter().try_for_each(|l| out_line(l))
}
