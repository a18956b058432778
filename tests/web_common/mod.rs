//! Shared by the `serve` tests: start `twistcoach serve` on a free port and talk HTTP to it.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

/// A running `twistcoach serve`, killed when dropped.
pub struct Server {
    child: Child,
    /// The URLs it printed on stdout (the first is http://127.0.0.1:PORT/...).
    pub urls: Vec<String>,
    pub port: u16,
    pub token: Option<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    pub fn start(args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_twistcoach"))
            .arg("serve")
            .args(["--port", "0", "--no-qr"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start twistcoach serve");
        let lan = args.contains(&"--lan");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut urls = Vec::new();
        let want = if lan { 2 } else { 1 };
        for _ in 0..want {
            let mut line = String::new();
            if out.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            urls.push(line.trim().to_string());
        }
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = out.read_to_end(&mut sink);
        });
        let first = urls.first().expect("serve printed no URL").clone();
        let rest = first
            .strip_prefix("http://127.0.0.1:")
            .or_else(|| first.strip_prefix("https://127.0.0.1:"))
            .expect("URL on 127.0.0.1");
        let port: u16 = rest.split('/').next().unwrap().parse().unwrap();
        let token = first.split_once("?token=").map(|(_, t)| t.to_string());
        Server {
            child,
            urls,
            port,
            token,
        }
    }
}

/// One HTTP/1.1 GET: (status, headers (lowercase names), body).
pub fn get(port: u16, path: &str, cookie: Option<&str>) -> (u16, Vec<(String, String)>, String) {
    let cookie = cookie.map(|c| format!("Cookie: {c}\r\n")).unwrap_or_default();
    request(
        port,
        &format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{cookie}Connection: close\r\n\r\n"),
    )
}

/// One HTTP/1.1 POST of a JSON body: (status, headers, body).
pub fn post_json(port: u16, path: &str, body: &str) -> (u16, Vec<(String, String)>, String) {
    request(
        port,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

fn request(port: u16, text: &str) -> (u16, Vec<(String, String)>, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.write_all(text.as_bytes()).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    // Read the head, then Content-Length bytes (some servers keep the connection open).
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let (head, body) = loop {
        let n = s.read(&mut buf).unwrap_or(0);
        raw.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&raw).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().to_string())
                })
                .and_then(|v| v.parse::<usize>().ok());
            if n == 0 || len.is_some_and(|len| body.len() >= len) {
                break (head.to_string(), body.to_string());
            }
        } else if n == 0 {
            break (text, String::new());
        }
    };
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, body.to_string())
}
