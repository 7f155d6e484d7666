//! Loopback HTTP/1.1 fakes for offline auth tests: a Cosmos DB gateway that answers chosen
//! statuses, and a managed-identity token endpoint (App Service protocol). Each records the
//! requests it saw.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A listener on a free loopback port.
pub fn loopback_listener() -> std::net::TcpListener {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap()
}

/// A request as the fake saw it; header names are lowercase.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    /// Path and query, e.g. `/msi/token?api-version=2019-08-01&resource=...`.
    pub target: String,
    pub headers: HashMap<String, String>,
}

/// What the fake answers.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    /// A JSON answer.
    pub fn json(status: u16, body: serde_json::Value) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
        }
    }

    /// A Cosmos DB error answer with a sub-status.
    pub fn cosmos_error(status: u16, sub_status: u32, message: &str) -> Reply {
        let mut reply = Reply::json(
            status,
            serde_json::json!({ "code": status, "message": message }),
        );
        reply
            .headers
            .push(("x-ms-substatus".into(), sub_status.to_string()));
        reply
    }
}

type Responder = dyn Fn(&Recorded) -> Reply + Send + Sync;

/// The answer that is none: the fake closes the connection after reading the request, as a
/// connection reset mid-request looks to a client.
pub const DROP: Reply = Reply {
    status: 0,
    headers: Vec::new(),
    body: String::new(),
};

/// The answer that never comes: the fake reads the request and holds the connection open,
/// silent, as a server that stopped responding looks to a client.
pub const HANG: Reply = Reply {
    status: 1,
    headers: Vec::new(),
    body: String::new(),
};

/// A loopback HTTP server answering through a closure.
pub struct FakeServer {
    /// `http://127.0.0.1:PORT/`
    pub endpoint: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl FakeServer {
    /// Starts the server on the current tokio runtime; it runs until the runtime stops.
    pub fn start(respond: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> FakeServer {
        FakeServer::start_on(loopback_listener(), respond)
    }

    /// Starts the server on a listener bound beforehand (to know its port early).
    pub fn start_on(
        listener: std::net::TcpListener,
        respond: impl Fn(&Recorded) -> Reply + Send + Sync + 'static,
    ) -> FakeServer {
        let endpoint = endpoint_of(&listener);
        listener.set_nonblocking(true).unwrap();
        let listener = TcpListener::from_std(listener).unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let respond: Arc<Responder> = Arc::new(respond);
        let seen = Arc::clone(&requests);
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let respond = Arc::clone(&respond);
                let seen = Arc::clone(&seen);
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut reader = BufReader::new(read);
                    while let Some(request) = read_request(&mut reader).await {
                        let reply = respond(&request);
                        seen.lock().unwrap().push(request);
                        if reply.status == DROP.status {
                            // The connection closes with the request read and no answer.
                            break;
                        }
                        if reply.status == HANG.status {
                            std::future::pending::<()>().await;
                        }
                        if write.write_all(&encode(&reply)).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        FakeServer { endpoint, requests }
    }

    /// Every request seen so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

async fn read_request(reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> Option<Recorded> {
    let mut line = String::new();
    if reader.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut headers = HashMap::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).await.ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
    }
    let length = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await.ok()?;
    Some(Recorded {
        method,
        target,
        headers,
    })
}

fn encode(reply: &Reply) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {} Fake\r\n", reply.status);
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "x-ms-activity-id: 00000000-0000-0000-0000-000000000000\r\ncontent-length: {}\r\n\r\n",
        reply.body.len()
    ));
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(reply.body.as_bytes());
    bytes
}

/// A fake gateway of a one-region account: answers the account, database and container
/// metadata the SDK needs, and `fault` for every request it returns `Some` for.
pub fn gateway(fault: impl Fn(&Recorded) -> Option<Reply> + Send + Sync + 'static) -> FakeServer {
    let listener = loopback_listener();
    let account = account(&[("Local", &endpoint_of(&listener))]);
    gateway_on(listener, account, fault)
}

/// A fake gateway that answers `status`/`sub_status` to requests for `method path` (query
/// string aside), and the account metadata otherwise.
pub fn gateway_failing(
    method: &'static str,
    path: &'static str,
    status: u16,
    sub_status: u32,
) -> FakeServer {
    gateway(move |request: &Recorded| {
        (request.method == method && request.target.split('?').next() == Some(path))
            .then(|| Reply::cosmos_error(status, sub_status, "refused by the fake gateway"))
    })
}

/// A fake gateway on `listener` describing the account as `account` (see [`account`]).
pub fn gateway_on(
    listener: std::net::TcpListener,
    account: serde_json::Value,
    fault: impl Fn(&Recorded) -> Option<Reply> + Send + Sync + 'static,
) -> FakeServer {
    FakeServer::start_on(listener, move |request| {
        fault(request).unwrap_or_else(|| metadata(&account, request))
    })
}

/// The `http://` endpoint of a listener.
pub fn endpoint_of(listener: &std::net::TcpListener) -> String {
    format!("http://{}/", listener.local_addr().unwrap())
}

/// An account whose regions are `(name, endpoint)`, all readable, the first writable.
pub fn account(regions: &[(&str, &str)]) -> serde_json::Value {
    let locations: Vec<_> = regions
        .iter()
        .map(|(name, endpoint)| serde_json::json!({ "name": name, "databaseAccountEndpoint": endpoint }))
        .collect();
    serde_json::json!({
        "id": "fake", "_rid": "fake", "_self": "", "_dbs": "//dbs/",
        "writableLocations": [locations[0]], "readableLocations": locations,
        "enableMultipleWriteLocations": false,
        "userConsistencyPolicy": { "defaultConsistencyLevel": "Session" },
    })
}

/// The metadata answers of `account` with database `db` and container `orders` partitioned by
/// `/customerId`; 404 for anything else.
fn metadata(account: &serde_json::Value, request: &Recorded) -> Reply {
    let path = request.target.split('?').next().unwrap_or_default();
    match (request.method.as_str(), path.trim_end_matches('/')) {
        ("GET", "") => Reply::json(200, account.clone()),
        ("GET", "/dbs/db") => Reply::json(
            200,
            serde_json::json!({ "id": "db", "_rid": "gAABAA==", "_self": "dbs/gAABAA==/", "_etag": "\"1\"" }),
        ),
        ("GET", "/dbs/db/colls/orders") => Reply::json(
            200,
            serde_json::json!({
                "id": "orders", "_rid": "gAABAIAAAAE=", "_self": "dbs/gAABAA==/colls/gAABAIAAAAE=/",
                "_etag": "\"1\"",
                "partitionKey": { "paths": ["/customerId"], "kind": "Hash", "version": 2 },
            }),
        ),
        ("GET", "/dbs/db/colls/orders/pkranges")
            if request.headers.contains_key("if-none-match") =>
        {
            Reply {
                status: 304,
                headers: Vec::new(),
                body: String::new(),
            }
        }
        ("GET", "/dbs/db/colls/orders/pkranges") => {
            // A change feed: the etag sent back as If-None-Match says nothing changed since.
            let mut reply = Reply::json(
                200,
                serde_json::json!({
                    "_rid": "gAABAIAAAAE=", "_count": 1,
                    "PartitionKeyRanges": [{
                        "id": "0", "minInclusive": "", "maxExclusive": "FF", "ridPrefix": 0,
                        "throughputFraction": 1, "status": "online", "parents": [],
                        "_rid": "gAABAIAAAAECAAAAAAAAUA==", "_etag": "\"1\"",
                    }],
                }),
            );
            reply.headers.push(("etag".into(), "\"1\"".into()));
            reply
        }
        _ => Reply::cosmos_error(404, 0, "not found"),
    }
}

/// A managed-identity endpoint (App Service 2019-08-01 protocol) on `listener`, issuing `token`
/// with `expires_on` as a string of Unix seconds, as App Service sends it. It answers 400 (an
/// identity not assigned to the resource) for client ids other than `assigned`.
pub fn identity_endpoint(
    listener: std::net::TcpListener,
    token: String,
    assigned: &'static str,
) -> FakeServer {
    FakeServer::start_on(listener, move |request| {
        let query = request.target.split_once('?').map_or("", |(_, q)| q);
        let client_id = query
            .split('&')
            .find_map(|pair| pair.strip_prefix("client_id="));
        if !request.target.starts_with("/msi/token") || client_id.is_some_and(|id| id != assigned) {
            return Reply::json(400, serde_json::json!({ "error": "invalid_request" }));
        }
        let expires_on = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 3600;
        Reply::json(
            200,
            serde_json::json!({
                "access_token": token,
                "expires_on": expires_on.to_string(),
                "resource": "https://cosmos.azure.com",
                "token_type": "Bearer",
            }),
        )
    })
}

/// An unsigned JWT whose payload carries `oid`, enough for the client to read the principal.
pub fn token_with_oid(oid: &str) -> String {
    use azure_core::base64::encode_url_safe;
    format!(
        "{}.{}.fake-signature",
        encode_url_safe(r#"{"alg":"none","typ":"JWT"}"#),
        encode_url_safe(format!(
            r#"{{"oid":"{oid}","aud":"https://cosmos.azure.com"}}"#
        ))
    )
}

/// A credential that always hands out one token, or always fails.
#[derive(Debug)]
pub struct StaticToken(pub Option<String>);

#[async_trait::async_trait]
impl azure_core::credentials::TokenCredential for StaticToken {
    async fn get_token(
        &self,
        _scopes: &[&str],
        _options: Option<azure_core::credentials::TokenRequestOptions<'_>>,
    ) -> azure_core::Result<azure_core::credentials::AccessToken> {
        match &self.0 {
            Some(token) => Ok(azure_core::credentials::AccessToken::new(
                token.clone(),
                azure_core::time::OffsetDateTime::now_utc() + azure_core::time::Duration::hours(1),
            )),
            None => Err(azure_core::Error::with_message(
                azure_core::error::ErrorKind::Credential,
                "no token for you",
            )),
        }
    }
}

/// Decodes `%XX` escapes.
pub fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .unwrap()
        .into_owned()
}
