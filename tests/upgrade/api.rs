//! A raw JSON client: paths and `serde_json::Value`s only, so the fixture
//! generator and the checks keep working whatever later rounds do to the
//! typed client and the domain types.

use std::time::Duration;

use serde_json::{json, Value};

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    pub base: String,
    token: Option<String>,
}

/// A non-2xx answer or a transport error, with what the server said.
pub type ApiResult<T> = Result<T, String>;

impl Api {
    pub fn new(base: &str) -> Api {
        Api {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            base: base.trim_end_matches('/').to_string(),
            token: None,
        }
    }

    /// The same server as `email`, signed in with a password.
    pub async fn login(&self, email: &str, password: &str) -> ApiResult<Api> {
        let v = self
            .send(
                reqwest::Method::POST,
                "/api/v1/auth/login",
                Some(json!({"email": email, "password": password})),
            )
            .await?;
        let token = v["token"]
            .as_str()
            .ok_or_else(|| format!("login answer without a token: {v}"))?;
        Ok(Api {
            token: Some(token.to_string()),
            ..self.clone()
        })
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> ApiResult<Value> {
        let text = self.send_text(method.clone(), path, body).await?;
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).map_err(|e| format!("{method} {path}: not JSON ({e}): {text}"))
    }

    /// The raw body of a 2xx answer (server-sent events are read to the end).
    pub async fn send_text(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> ApiResult<String> {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| format!("{method} {path}: {e}"))?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .map_err(|e| format!("{method} {path}: reading the body: {e}"))?;
        if !status.is_success() {
            return Err(format!("{method} {path}: {status}: {text}"));
        }
        Ok(text)
    }

    pub async fn get(&self, path: &str) -> ApiResult<Value> {
        self.send(reqwest::Method::GET, path, None).await
    }

    /// Panics with the server's answer: for the generator, where every step must work.
    pub async fn post(&self, path: &str, body: Value) -> Value {
        self.send(reqwest::Method::POST, path, Some(body))
            .await
            .unwrap()
    }

    pub async fn patch(&self, path: &str, body: Value) -> Value {
        self.send(reqwest::Method::PATCH, path, Some(body))
            .await
            .unwrap()
    }

    pub async fn put(&self, path: &str, body: Value) -> Value {
        self.send(reqwest::Method::PUT, path, Some(body))
            .await
            .unwrap()
    }

    pub async fn delete(&self, path: &str) {
        self.send(reqwest::Method::DELETE, path, None)
            .await
            .unwrap();
    }

    /// A raw body (CSV) with its content type.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: String) -> Value {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        assert!(status.is_success(), "POST {path}: {status}: {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// A lead through the public ingest endpoint, with an API key.
    pub async fn ingest(&self, key: &str, idempotency: &str, lead: Value) -> Value {
        let resp = self
            .http
            .post(format!("{}/api/v1/ingest/leads", self.base))
            .header("X-Api-Key", key)
            .header("Idempotency-Key", idempotency)
            .json(&lead)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        assert!(status.is_success(), "ingest: {status}: {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// Every row a list answers: a bare array, one object, or cursor pages
    /// (`items` and `next_cursor`) followed to the end.
    pub async fn rows(&self, path: &str) -> ApiResult<Vec<Value>> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let sep = if path.contains('?') { '&' } else { '?' };
            let url = match &cursor {
                Some(c) => format!("{path}{sep}limit=200&cursor={}", urlencode(c)),
                None if !is_paged(path) => path.to_string(),
                None => format!("{path}{sep}limit=200"),
            };
            let v = self.get(&url).await?;
            match v {
                Value::Array(items) => return Ok(items),
                Value::Object(ref m) if m.contains_key("items") => {
                    if let Some(items) = m["items"].as_array() {
                        out.extend(items.iter().cloned());
                    }
                    match m.get("next_cursor").and_then(Value::as_str) {
                        Some(c) => cursor = Some(c.to_string()),
                        None => return Ok(out),
                    }
                }
                other => return Ok(vec![other]),
            }
        }
    }
}

/// Lists answered in cursor pages (the others take no `limit`).
fn is_paged(path: &str) -> bool {
    let base = path.split('?').next().unwrap_or(path);
    [
        "/tenants",
        "/members",
        "/invitations",
        "/api-keys",
        "/audit",
        "/leads",
        "/deliveries",
    ]
    .iter()
    .any(|end| base.ends_with(end))
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
