//! Placeholder: being written (see issue 3).

use super::shared::Shared;
use std::sync::Arc;

pub fn router(shared: Arc<Shared>) -> axum::Router {
    let _ = shared;
    axum::Router::new()
}
