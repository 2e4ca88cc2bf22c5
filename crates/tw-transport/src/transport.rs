//! The seam: one blocking call from a request to a response.

use std::sync::Arc;

use crate::{Error, Request, Response};

/// Sends a [`Request`] and returns its [`Response`].
///
/// Implementations return `Ok` only for 2xx responses; any other status is
/// an [`Error::Status`] carrying the start of the body. Auth and retries are
/// decorators that implement this same trait around an inner transport
/// ([`crate::AuthTransport`], [`crate::RetryTransport`]). The trait is
/// object safe: hold a `Box<dyn Transport>` where the stack is chosen at run
/// time.
pub trait Transport: Send + Sync {
    /// Sends one request (the decorators may send it more than once).
    fn send(&self, request: &Request) -> Result<Response, Error>;

    /// Hands back the body of a response once it is no longer needed, so
    /// a later response can be read into its memory ([`crate::HttpTransport`]
    /// keeps a few; the default drops it). Decorators pass it on to the
    /// transport they wrap. Optional: a body not handed back is simply
    /// freed.
    fn recycle(&self, body: Vec<u8>) {
        drop(body);
    }
}

impl<T: Transport + ?Sized> Transport for &T {
    fn send(&self, request: &Request) -> Result<Response, Error> {
        (**self).send(request)
    }

    fn recycle(&self, body: Vec<u8>) {
        (**self).recycle(body);
    }
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn send(&self, request: &Request) -> Result<Response, Error> {
        (**self).send(request)
    }

    fn recycle(&self, body: Vec<u8>) {
        (**self).recycle(body);
    }
}

impl<T: Transport + ?Sized> Transport for Arc<T> {
    fn send(&self, request: &Request) -> Result<Response, Error> {
        (**self).send(request)
    }

    fn recycle(&self, body: Vec<u8>) {
        (**self).recycle(body);
    }
}
