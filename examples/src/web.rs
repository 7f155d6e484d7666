//! The HTTP API of the `web_api` scenario: orders over axum, with Cosmos DB's ETags passed
//! through as HTTP `ETag` / `If-Match`, so that a client's stale write answers 412.
//!
//! | route | does |
//! |---|---|
//! | `POST /api/cosmos/items` | upserts the order in the body: 201, the stored order, `ETag` |
//! | `GET /api/cosmos/items/{id}?customerId=..` | point read: 200 with `ETag`, or 404 as JSON |
//! | `PUT /api/cosmos/items/{id}?customerId=..` | replaces under `If-Match`: 428 without it, 412 when stale |
//! | `PATCH /api/cosmos/items/{id}?customerId=..` | `{"status": .., "addToTotal": ..}` as a typed patch, `If-Match` optional |
//! | `GET /health` | the start-up container check: 200, or 503 with the fix |

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use cosmos_repo::Error;
use cosmos_repo::prelude::*;
use serde::Deserialize;

use crate::{Order, Store};

/// What the handlers share: where documents live.
#[derive(Clone, Debug)]
pub struct AppState {
    store: Store,
    orders: Repository<Order>,
}

/// The API's routes over `store`, whose orders container must be ready (see
/// [`Store::prepare`]).
pub fn router(store: Store) -> Router {
    let orders = store.repository::<Order>();
    Router::new()
        .route("/api/cosmos/items", axum::routing::post(create))
        .route(
            "/api/cosmos/items/{id}",
            get(read).put(replace).patch(patch),
        )
        .route("/health", get(health))
        .with_state(AppState { store, orders })
}

/// The partition key of a point operation, as a query parameter.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Key {
    customer_id: String,
}

/// The changes `PATCH` accepts.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Changes {
    status: Option<String>,
    add_to_total: Option<f64>,
}

/// An error as the API answers it: a status and `{"error": "..."}`.
#[derive(Debug)]
pub struct ApiError(StatusCode, String);

impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        let status = match err.status() {
            400 => StatusCode::BAD_REQUEST,
            404 => StatusCode::NOT_FOUND,
            409 => StatusCode::CONFLICT,
            412 => StatusCode::PRECONDITION_FAILED,
            429 => StatusCode::SERVICE_UNAVAILABLE,
            408 => StatusCode::GATEWAY_TIMEOUT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() {
            // 401/403 from Cosmos DB are the service's configuration, not the client's fault:
            // the log carries the fix (role assignment, `az login`, ...), the client a 500.
            tracing::error!(error = %err, "cosmos db request failed");
        }
        ApiError(status, err.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(serde_json::json!({ "error": self.1 }));
        (self.0, body).into_response()
    }
}

/// An order with its `ETag` header.
fn with_etag(status: StatusCode, order: Order) -> Response {
    let etag = order
        .etag
        .as_ref()
        .and_then(|etag| HeaderValue::from_str(etag.as_str()).ok());
    let mut response = (status, Json(order)).into_response();
    if let Some(etag) = etag {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

fn if_match(headers: &HeaderMap) -> Option<Etag> {
    headers
        .get(header::IF_MATCH)
        .and_then(|value| value.to_str().ok())
        .map(Etag::new)
}

async fn create(
    State(app): State<AppState>,
    Json(order): Json<Order>,
) -> Result<Response, ApiError> {
    let stored = app.orders.upsert(&order).await?;
    Ok(with_etag(StatusCode::CREATED, stored))
}

async fn read(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Query(key): Query<Key>,
) -> Result<Response, ApiError> {
    let order = app.orders.read(key.customer_id.as_str(), &id).await?;
    Ok(with_etag(StatusCode::OK, order))
}

async fn replace(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Query(key): Query<Key>,
    headers: HeaderMap,
    Json(order): Json<Order>,
) -> Result<Response, ApiError> {
    let Some(etag) = if_match(&headers) else {
        return Err(ApiError(
            StatusCode::PRECONDITION_REQUIRED,
            "send If-Match with the ETag of the copy this replaces, so that a concurrent change is not overwritten".into(),
        ));
    };
    if order.id != id || order.customer_id != key.customer_id {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "the body's id and customerId must be the ones in the URL".into(),
        ));
    }
    let stored = app.orders.replace(&order).if_match(etag).await?;
    Ok(with_etag(StatusCode::OK, stored))
}

async fn patch(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Query(key): Query<Key>,
    headers: HeaderMap,
    Json(changes): Json<Changes>,
) -> Result<Response, ApiError> {
    let f = Order::FIELDS;
    let mut patch = app.orders.patch(key.customer_id.as_str(), &id);
    if let Some(status) = changes.status {
        patch = patch.set(f.status, status);
    }
    if let Some(amount) = changes.add_to_total {
        patch = patch.incr(f.total, amount);
    }
    if let Some(etag) = if_match(&headers) {
        patch = patch.if_match(etag);
    }
    Ok(with_etag(StatusCode::OK, patch.await?))
}

async fn health(State(app): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    match app.store.verify::<Order>().await {
        Ok(()) => Ok(Json(serde_json::json!({ "status": "ok" }))),
        Err(err) => {
            tracing::error!(error = %err, "the container check failed");
            Err(ApiError(StatusCode::SERVICE_UNAVAILABLE, err.to_string()))
        }
    }
}
