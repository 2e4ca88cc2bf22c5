//! The client: settings in, typed iterators out.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use std::marker::PhantomData;

use tw_model::{Dataset, ExportRequest, Method, Paging, SkillClusters};
use tw_paginate::{Checkpoint, Cursor, Page, PageSource, Paginator};
use tw_transport::{
    AuthTransport, BaseUrl, ClientCredentials, Credentials, HttpConfig, HttpTransport, Request,
    RetryEvent, RetryPolicy, RetryTransport, Secret, Transport,
};

use crate::Error;
use crate::prefetch::Prefetch;

type RetryHook = Arc<dyn Fn(&RetryEvent<'_>) + Send + Sync>;

/// Settings for a [`Client`].
///
/// ```no_run
/// use tw_export::Client;
/// use tw_transport::Secret;
///
/// let client = Client::builder()
///     .tenant("acme", "eu")
///     .client_credentials("my-client-id", Secret::new("my-client-secret"))
///     .build()?;
/// # Ok::<(), tw_export::Error>(())
/// ```
#[derive(Clone)]
pub struct ClientBuilder {
    tenant: Option<String>,
    region: Option<String>,
    base_url: Option<String>,
    token_url: Option<String>,
    audience: Option<String>,
    credentials: Option<(String, Secret)>,
    token: Option<Secret>,
    http: HttpConfig,
    retry: RetryPolicy,
    read_ahead: bool,
    derive_missing_cursors: bool,
    on_retry: Option<RetryHook>,
}

impl Default for ClientBuilder {
    /// The same as [`Client::builder`]: read-ahead on, everything else unset
    /// or at the transport's defaults.
    fn default() -> Self {
        ClientBuilder {
            tenant: None,
            region: None,
            base_url: None,
            token_url: None,
            audience: None,
            credentials: None,
            token: None,
            http: HttpConfig::default(),
            retry: RetryPolicy::default(),
            read_ahead: true,
            derive_missing_cursors: false,
            on_retry: None,
        }
    }
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("tenant", &self.tenant)
            .field("region", &self.region)
            .field("base_url", &self.base_url)
            .field("token_url", &self.token_url)
            .field("audience", &self.audience)
            .field("client_id", &self.credentials.as_ref().map(|(id, _)| id))
            .field("token", &self.token)
            .field("http", &self.http)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// The tenant and region: the API is at
    /// `https://{tenant}.{region}.techwolf.ai`, and for `eu`/`us` the token
    /// URL and audience have defaults. The tenant is also sent in the token
    /// request.
    pub fn tenant(mut self, tenant: impl Into<String>, region: impl Into<String>) -> Self {
        self.tenant = Some(tenant.into());
        self.region = Some(region.into());
        self
    }

    /// The tenant name alone (for the token request when a base URL is
    /// given instead of a region).
    pub fn tenant_name(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = Some(tenant.into());
        self
    }

    /// The region alone (for token URL and audience defaults with a base URL).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// A whole base URL, overriding tenant and region (proxies, tests, the
    /// sandbox). `https://`, or `http://` to a loopback host.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The OAuth2 token endpoint (default: by region).
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = Some(url.into());
        self
    }

    /// The OAuth2 audience (default: by region).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Authenticate with OAuth2 client credentials.
    pub fn client_credentials(mut self, client_id: impl Into<String>, secret: Secret) -> Self {
        self.credentials = Some((client_id.into(), secret));
        self.token = None;
        self
    }

    /// Authenticate with a bearer token obtained elsewhere.
    pub fn bearer_token(mut self, token: Secret) -> Self {
        self.token = Some(token);
        self.credentials = None;
        self
    }

    /// Send `X-API-Version: <date>` to override the tenant's pinned version.
    pub fn api_version(mut self, version: tw_model::Date) -> Self {
        self.http.api_version = Some(version.to_string());
        self
    }

    /// The timeout of one request, body included (default 120 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.http.request_timeout = timeout;
        self
    }

    /// The connect timeout (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.http.connect_timeout = timeout;
        self
    }

    /// All HTTP settings at once.
    pub fn http_config(mut self, config: HttpConfig) -> Self {
        self.http = config;
        self
    }

    /// The retry policy (default: 5 attempts, backoff 0.5 s to 30 s).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Called before every retry wait (progress displays, logs).
    pub fn on_retry(mut self, hook: impl Fn(&RetryEvent<'_>) + Send + Sync + 'static) -> Self {
        self.on_retry = Some(Arc::new(hook));
        self
    }

    /// Fetch the next page on a background thread while the current one is
    /// consumed (default on; pages arrive exactly as without). Requests
    /// then go out from a helper thread of their own, and the request for
    /// the page after next goes out while the next page is checked, when
    /// a page names its cursor at its ends (the documented layout); the
    /// server sees the same requests in the same order, at most one at a
    /// time.
    pub fn read_ahead(mut self, on: bool) -> Self {
        self.read_ahead = on;
        self
    }

    /// When a page says more follow but carries no `next_starting_after`
    /// (older API versions), continue after its last record's external id
    /// instead of failing (default off).
    pub fn derive_missing_cursors(mut self, on: bool) -> Self {
        self.derive_missing_cursors = on;
        self
    }

    fn credentials(&self) -> Result<Credentials, Error> {
        if let Some(token) = &self.token {
            return Ok(Credentials::BearerToken(token.clone()));
        }
        let Some((client_id, secret)) = &self.credentials else {
            return Err(Error::Config(
                "no credentials: give a bearer token or a client id and secret".into(),
            ));
        };
        let tenant = self.tenant.clone().ok_or_else(|| {
            Error::Config(
                "client credentials need the tenant name (TechWolf's token request names it)"
                    .into(),
            )
        })?;
        let defaults = self
            .region
            .as_deref()
            .and_then(tw_transport::region_defaults);
        let missing = || {
            Error::Config(match &self.region {
                Some(region) => format!(
                    "client credentials need a token URL and audience: region {region:?} has no \
                     defaults (only eu and us do), so give both explicitly"
                ),
                None => "client credentials need a token URL and audience, or a region (eu, us) \
                         to default them"
                    .into(),
            })
        };
        let token_url = match &self.token_url {
            Some(url) => url.clone(),
            None => defaults.ok_or_else(missing)?.0.to_owned(),
        };
        let audience = match &self.audience {
            Some(audience) => audience.clone(),
            None => defaults.ok_or_else(missing)?.1.to_owned(),
        };
        let credentials = ClientCredentials::new(
            client_id.clone(),
            secret.clone(),
            tenant,
            token_url,
            audience,
        )?;
        Ok(Credentials::ClientCredentials(credentials))
    }

    /// Checks the settings and builds the client (no request is sent).
    pub fn build(self) -> Result<Client, Error> {
        let base = match (&self.base_url, &self.tenant, &self.region) {
            (Some(url), _, _) => BaseUrl::parse(url)?,
            (None, Some(tenant), Some(region)) => BaseUrl::for_tenant(tenant, region)?,
            _ => {
                return Err(Error::Config(
                    "no API address: give a tenant and region, or a base URL".into(),
                ));
            }
        };
        let credentials = self.credentials()?;
        let retries = Arc::new(AtomicU64::new(0));
        let counter = retries.clone();
        let hook = self.on_retry.clone();
        let http = HttpTransport::with_config(base.clone(), self.http.clone())?;
        let connections = http.connection_counter();
        let retrying = RetryTransport::new(http, self.retry.clone()).with_observer(move |event| {
            counter.fetch_add(1, Ordering::Relaxed);
            if let Some(hook) = &hook {
                hook(event);
            }
        });
        let transport: Arc<dyn Transport> = Arc::new(AuthTransport::new(retrying, credentials));
        Ok(Client {
            transport,
            retries,
            connections: Some(connections),
            base_url: base.as_str().to_owned(),
            read_ahead: self.read_ahead,
            derive_missing_cursors: self.derive_missing_cursors,
        })
    }
}

/// A blocking TechWolf export client.
///
/// Cheap to clone; clones share the connection pool, the token cache and
/// the retry counter.
#[derive(Clone)]
pub struct Client {
    transport: Arc<dyn Transport>,
    retries: Arc<AtomicU64>,
    /// TCP connections opened (absent for a client on a custom transport).
    connections: Option<Arc<AtomicU64>>,
    base_url: String,
    read_ahead: bool,
    derive_missing_cursors: bool,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url)
            .field("retries", &self.retries())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Settings for a client; see [`ClientBuilder`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from the `TECHWOLF_*` environment exactly as
    /// the `tw-export` command reads it; see [`ClientBuilder::from_env`].
    pub fn from_env() -> Result<Client, Error> {
        ClientBuilder::from_env()?.build()
    }

    /// A client over any transport (a test double, a custom stack). The
    /// transport must add authentication itself. Pages are fetched on the
    /// calling thread (no read-ahead), which keeps test doubles simple.
    pub fn with_transport(transport: impl Transport + 'static) -> Client {
        Client {
            transport: Arc::new(transport),
            retries: Arc::new(AtomicU64::new(0)),
            connections: None,
            base_url: String::new(),
            read_ahead: false,
            derive_missing_cursors: false,
        }
    }

    /// The base URL requests go to (empty for [`Client::with_transport`]).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// TCP connections opened so far by this client and its clones (a
    /// reused keep-alive connection is not a new one); `None` for a client
    /// on a custom transport.
    pub fn connections(&self) -> Option<u64> {
        self.connections.as_ref().map(|n| n.load(Ordering::Relaxed))
    }

    /// Retries made so far by this client and its clones.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// Every record of dataset `D`, one at a time, fetched lazily page by
    /// page from the first page.
    ///
    /// ```no_run
    /// # let client: tw_export::Client = todo!();
    /// use tw_export::model::{ExportRequest, SkillProfiles};
    ///
    /// let request = ExportRequest::<SkillProfiles>::new(100)?;
    /// for employee in client.export(request) {
    ///     let employee = employee?;
    ///     println!("{}: {} skills", employee.external_id, employee.skill_list().len());
    /// }
    /// # Ok::<(), tw_export::Error>(())
    /// ```
    pub fn export<D: Dataset>(&self, request: ExportRequest<D>) -> Records<D> {
        self.export_from(request, Checkpoint::start())
    }

    /// Like [`Client::export`], continuing from a checkpoint (taken with
    /// [`Records::checkpoint`], from an error, or [`Checkpoint::after`] a
    /// cursor).
    pub fn export_from<D: Dataset>(
        &self,
        request: ExportRequest<D>,
        checkpoint: Checkpoint,
    ) -> Records<D> {
        let paginator = self.paginator::<D, Typed>(request, checkpoint, None, Pool::default());
        Records {
            inner: if self.read_ahead {
                paginator.items_read_ahead()
            } else {
                paginator.items()
            },
        }
    }

    /// Whole pages of dataset `D` from `checkpoint`, with records in
    /// representation `R`: [`Typed`] records, or [`Raw`] records (the
    /// server's JSON text, checked against the model, which accepts exactly
    /// what typed decoding accepts). Writing raw records gives the same JSON
    /// values as decoding and re-serializing, at about twice the speed; the
    /// `tw-export` command does this for JSON Lines and JSON. `max_records`
    /// ends the export cleanly after that many records.
    pub fn pages<D: Dataset, R: Repr<D>>(
        &self,
        request: ExportRequest<D>,
        checkpoint: Checkpoint,
        max_records: Option<u64>,
    ) -> Pages<D, R> {
        let pool = Pool::default();
        let paginator = self.paginator::<D, R>(request, checkpoint, max_records, pool.clone());
        Pages {
            pool,
            transport: self.transport.clone(),
            inner: if self.read_ahead {
                paginator.pages_read_ahead()
            } else {
                paginator.pages()
            },
        }
    }

    /// Every employee's skill clusters: [`Client::export`] for
    /// [`SkillClusters`].
    pub fn skill_clusters(&self, request: ExportRequest<SkillClusters>) -> Records<SkillClusters> {
        self.export(request)
    }

    fn paginator<D: Dataset, R: Repr<D>>(
        &self,
        request: ExportRequest<D>,
        checkpoint: Checkpoint,
        max_records: Option<u64>,
        pool: Pool<R::Item>,
    ) -> Paginator<Source<D, R>> {
        let query = request.query_pairs();
        // The helper guesses each next request itself only when every page
        // is wanted: with `max_records`, the read-ahead thread decides,
        // knowing how many records the pages so far held.
        let guess = (D::PAGING == Paging::Cursor && max_records.is_none()).then(|| {
            let (request, query) = (request.clone(), query.clone());
            Box::new(move |response: &tw_transport::Response| {
                guessed_request(&request, &query, &response.body)
            }) as crate::prefetch::Guess
        });
        let source = Source {
            transport: self.transport.clone(),
            query,
            request,
            page: checkpoint.pages,
            pool,
            repr: PhantomData,
            prefetch: self
                .read_ahead
                .then(|| Prefetch::new(self.transport.clone(), guess)),
            room: max_records.map(|max| max.saturating_sub(checkpoint.items)),
        };
        let mut paginator = Paginator::resume(source, checkpoint);
        if let Some(max) = max_records {
            paginator = paginator.max_items(max);
        }
        if let (true, [key]) = (self.derive_missing_cursors, D::KEY) {
            paginator = paginator.cursor_fallback(|item| R::key(item, key).map(Cursor::new));
        }
        paginator
    }
}

/// A page decoded by [`Repr::decode_page_spent`], with the body when its
/// items keep none of it.
pub type SpentPage<T> = (Page<T>, Option<Vec<u8>>);

/// How a page's records are handed out: [`Typed`] or [`Raw`]. Both decode
/// with tw-model's one envelope visitor, so they accept the same pages.
pub trait Repr<D: Dataset>: Send + 'static {
    /// One record.
    type Item: Send + 'static;

    /// Decodes a response body of dataset `D`: a page, or the whole
    /// document of a document export. `reuse` holds the items of an
    /// earlier page (or nothing), whose allocations may be reused.
    fn decode_page(
        body: Vec<u8>,
        reuse: Vec<Self::Item>,
    ) -> Result<Page<Self::Item>, tw_model::DecodeError> {
        Self::decode_page_spent(body, reuse).map(|(page, _)| page)
    }

    /// [`Repr::decode_page`], also giving back the body when the items
    /// keep none of it (typed records, CSV rows without their JSON), for
    /// the transport to read a later response into (see
    /// [`Transport::recycle`]); `None` when the items keep it.
    fn decode_page_spent(
        body: Vec<u8>,
        reuse: Vec<Self::Item>,
    ) -> Result<SpentPage<Self::Item>, tw_model::DecodeError>;

    /// [`Repr::decode_page_spent`] for a page of which only the first
    /// `keep` records are exported (the page that reaches `max_records`:
    /// the paginator drops the rest). What a representation hands on
    /// about the whole page (the unknown fields [`RawCounted`] and
    /// [`RowsCounted`] count) then covers those records only. The default
    /// decodes the page as [`Repr::decode_page_spent`] does.
    fn decode_page_keeping(
        body: Vec<u8>,
        reuse: Vec<Self::Item>,
        keep: usize,
    ) -> Result<SpentPage<Self::Item>, tw_model::DecodeError> {
        let _ = keep;
        Self::decode_page_spent(body, reuse)
    }

    /// The text of a string field of `item` (for the cursor fallback).
    fn key(item: &Self::Item, field: &str) -> Option<String>;

    /// Lets go of what the items of a written page hold that a later page
    /// cannot reuse (the page's body), before they wait for reuse (see
    /// [`Pages::recycle`]): a waiting page then keeps only its
    /// allocations, not its bytes. Returns the body when the items held
    /// the only reference to it, for the transport to read a later
    /// response into (see [`Transport::recycle`]); `None` (the default)
    /// when they keep no body.
    fn release(items: &mut Vec<Self::Item>) -> Option<Vec<u8>> {
        let _ = items;
        None
    }
}

/// Records decoded into the model's types (`D::Record`).
#[derive(Debug, Clone, Copy)]
pub struct Typed;

/// Records kept as the server's JSON text ([`RawRecord`]), checked against
/// the model.
#[derive(Debug, Clone, Copy)]
pub struct Raw;

fn next_cursor(next: Option<String>) -> Option<Cursor> {
    next.filter(|c| !c.is_empty()).map(Cursor::new)
}

impl<D: Dataset> Repr<D> for Typed {
    type Item = D::Record;

    fn decode_page_spent(
        body: Vec<u8>,
        reuse: Vec<D::Record>,
    ) -> Result<SpentPage<D::Record>, tw_model::DecodeError> {
        // Over the records of a page already written, when one came back
        // (Pages::recycle): no allocation per string once warmed up.
        let mut records = reuse;
        let (has_next, next) = tw_model::decode_page_into::<D>(&body, &mut records)?;
        let page = Page {
            items: records,
            has_next,
            next_cursor: next_cursor(next),
        };
        Ok((page, Some(body)))
    }

    fn key(item: &D::Record, field: &str) -> Option<String> {
        match serde_json::to_value(item).ok()?.get(field)? {
            serde_json::Value::String(text) => Some(text.clone()),
            _ => None,
        }
    }
}

impl<D: Dataset> Repr<D> for Raw {
    type Item = RawRecord;

    fn decode_page_spent(
        body: Vec<u8>,
        reuse: Vec<RawRecord>,
    ) -> Result<SpentPage<RawRecord>, tw_model::DecodeError> {
        let page = tw_model::decode_raw_page::<D>(&body)?;
        Ok(raw_items(body, page, reuse))
    }

    fn key(item: &RawRecord, field: &str) -> Option<String> {
        string_field(item.as_bytes(), field)
    }

    fn release(items: &mut Vec<RawRecord>) -> Option<Vec<u8>> {
        // Only the list's room is reused.
        let body = items.first().map(|item| item.body.clone());
        items.clear();
        Arc::try_unwrap(body?).ok()
    }
}

/// The [`Raw`] records of a checked page: each one's range of `body`, the
/// body shared.
fn raw_items(
    body: Vec<u8>,
    page: tw_model::RawPage,
    reuse: Vec<RawRecord>,
) -> SpentPage<RawRecord> {
    let mut body = body;
    // The byte after each record (a comma, whitespace or the list's
    // `]`: never a record's) becomes a line break, so the JSON Lines
    // of a page's records are the bytes they lie in, and a writer
    // writes a page of them at once (see [`lines_run`]). What the
    // records' texts are does not change.
    for record in &page.records {
        if let Some(after) = body.get_mut(record.end) {
            *after = b'\n';
        }
    }
    let body = Arc::new(body);
    let one_line = !page.line_breaks;
    let mut items = reuse;
    items.clear();
    items.extend(page.records.into_iter().map(|range| RawRecord {
        body: body.clone(),
        range,
        one_line,
        page_unknown_fields: None,
    }));
    let page = Page {
        items,
        has_next: page.has_next,
        next_cursor: next_cursor(page.next_starting_after),
    };
    // The records keep the body.
    (page, None)
}

/// Records kept as the server's JSON text, as [`Raw`] keeps them, with
/// the fields the model does not know counted by JSON path in the same
/// pass that checks each page ([`tw_model::decode_raw_page_counting`]),
/// not in a second one: what `tw-export all` and `--stats` report as
/// drift. A page's counts ride on its first record
/// ([`RawRecord::page_unknown_fields`]).
#[derive(Debug, Clone, Copy)]
pub struct RawCounted;

impl<D: Dataset> Repr<D> for RawCounted {
    type Item = RawRecord;

    fn decode_page_spent(
        body: Vec<u8>,
        reuse: Vec<RawRecord>,
    ) -> Result<SpentPage<RawRecord>, tw_model::DecodeError> {
        <RawCounted as Repr<D>>::decode_page_keeping(body, reuse, usize::MAX)
    }

    fn decode_page_keeping(
        body: Vec<u8>,
        reuse: Vec<RawRecord>,
        keep: usize,
    ) -> Result<SpentPage<RawRecord>, tw_model::DecodeError> {
        let mut counts = tw_model::UnknownFields::default();
        let page = tw_model::decode_raw_page_counting::<D>(&body, &mut counts)?;
        if page.records.len() > keep {
            // The records that are exported, counted again on their own
            // (the last page of a capped export only).
            counts = tw_model::UnknownFields::default();
            let scanner = <D::Record as tw_model::Validate>::scanner();
            let shape = <D::Record as tw_model::Describe>::shape();
            for record in &page.records[..keep] {
                counts.add_record(scanner, &shape, &body[record.clone()]);
            }
        }
        let (mut page, spent) = raw_items(body, page, reuse);
        if let Some(first) = page.items.first_mut() {
            first.page_unknown_fields = Some(Arc::new(counts.into_counts()));
        }
        Ok((page, spent))
    }

    fn key(item: &RawRecord, field: &str) -> Option<String> {
        <Raw as Repr<D>>::key(item, field)
    }

    fn release(items: &mut Vec<RawRecord>) -> Option<Vec<u8>> {
        <Raw as Repr<D>>::release(items)
    }
}

/// Records viewed for their table ([`ViewedRecord`]): what a CSV export
/// reads. A page is walked once; each record's strings stay in the page's
/// text and are copied once, into the output.
#[derive(Debug, Clone, Copy)]
pub struct Viewed;

/// One record viewed for its table (see [`tw_model::view`]): its view, and
/// the page text its spans point into, shared with the page's other
/// records.
#[derive(Clone)]
pub struct ViewedRecord<V> {
    text: Arc<String>,
    range: std::ops::Range<usize>,
    view: V,
}

impl<V> ViewedRecord<V> {
    /// The record's view; its spans point into [`ViewedRecord::page_text`].
    pub fn view(&self) -> &V {
        &self.view
    }

    /// The text of the page the record was viewed in.
    pub fn page_text(&self) -> &str {
        &self.text
    }

    /// The record's JSON text (as the server sent it, unless the page had
    /// to be decoded by serde: then as it writes the record).
    pub fn as_str(&self) -> &str {
        &self.text[self.range.clone()]
    }
}

impl<V> std::fmt::Debug for ViewedRecord<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ViewedRecord").field(&self.as_str()).finish()
    }
}

impl<D: Dataset> Repr<D> for Viewed {
    type Item = ViewedRecord<<D::Record as tw_model::Table>::View>;

    fn decode_page_spent(
        body: Vec<u8>,
        reuse: Vec<Self::Item>,
    ) -> Result<SpentPage<Self::Item>, tw_model::DecodeError> {
        // Over the views of a page already written: their lists keep
        // their allocations.
        let mut views: Vec<_> = reuse.into_iter().map(|item| item.view).collect();
        let page = tw_model::decode_view_page::<D>(body, &mut views)?;
        let text = Arc::new(page.text);
        let items = views
            .into_iter()
            .zip(page.records)
            .map(|(view, range)| ViewedRecord {
                text: text.clone(),
                range,
                view,
            })
            .collect();
        let page = Page {
            items,
            has_next: page.has_next,
            next_cursor: next_cursor(page.next_starting_after),
        };
        // The records keep the body.
        Ok((page, None))
    }

    fn key(item: &Self::Item, field: &str) -> Option<String> {
        string_field(item.as_str().as_bytes(), field)
    }

    fn release(items: &mut Vec<Self::Item>) -> Option<Vec<u8>> {
        // The views stay (their lists are reused); the page's text goes.
        let text = items.first().map(|item| item.text.clone());
        let empty = Arc::new(String::new());
        for item in items {
            item.text = empty.clone();
            item.range = 0..0;
        }
        Arc::try_unwrap(text?).ok().map(String::into_bytes)
    }
}

/// Records whose table rows are written, in CSV dialect `L`, as their
/// page is decoded ([`RowsRecord`]): what a CSV export reads. With
/// read-ahead, a page is walked, checked and turned into rows on the
/// read-ahead thread, one record at a time over one view while the
/// record is in the cache, and the consumer copies finished rows. The
/// page's verdict is [`Typed`]'s.
///
/// `J` says whether the records keep their JSON text: [`WithJson`] (the
/// default) keeps the page's body until the page is handed back;
/// [`NoJson`] lets go of it as soon as the rows are written, so a page
/// waiting for the writer holds only its rows (about as many bytes as
/// the body). The `tw-export` command reads `NoJson` records unless it
/// counts unknown fields (`--stats`, `-v`, `all`), which reads the text.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rows<L, J = WithJson>(PhantomData<(L, J)>);

/// Whether [`Rows`] records keep their JSON text.
pub trait RecordJson: Send + Sync + 'static {
    /// `true` to keep it.
    const KEEP: bool;
}

/// [`Rows`] records keep their JSON text ([`RowsRecord::as_str`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct WithJson;

impl RecordJson for WithJson {
    const KEEP: bool = true;
}

/// [`Rows`] records keep only their rows: [`RowsRecord::as_str`] is
/// empty but for a page's last record, whose text stays for the cursor
/// fallback (see [`ClientBuilder::derive_missing_cursors`]). Such records
/// go only into a CSV writer of their own dialect.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoJson;

impl RecordJson for NoJson {
    const KEEP: bool = false;
}

/// One record with its table's rows (see [`Rows`]).
#[derive(Clone)]
pub struct RowsRecord {
    page: Arc<RowsPage>,
    json: std::ops::Range<usize>,
    rows: std::ops::Range<usize>,
    /// The page's first record (which hands on the page's counts).
    first: bool,
}

/// A page of [`RowsRecord`]s: its text and its records' rows.
#[derive(Debug, Default)]
struct RowsPage {
    text: String,
    rows: Vec<u8>,
    /// `None` only for a released page.
    dialect: Option<crate::output::CsvDialect>,
    /// The unknown fields of the page's records, for a page read as
    /// [`RowsCounted`].
    unknown_fields: Option<BTreeMap<String, u64>>,
}

impl RowsRecord {
    /// The record's JSON text (as the server sent it, unless the page had
    /// to be decoded by serde: then as it writes the record); empty for a
    /// [`NoJson`] record that is not its page's last.
    pub fn as_str(&self) -> &str {
        &self.page.text[self.json.clone()]
    }

    /// The record's rows, line ends included, in [`RowsRecord::dialect`].
    pub fn rows(&self) -> &[u8] {
        &self.page.rows[self.rows.clone()]
    }

    /// The CSV dialect of the rows.
    pub fn dialect(&self) -> Option<crate::output::CsvDialect> {
        self.page.dialect
    }

    /// For the first record of a page read as [`RowsCounted`]: how many
    /// times each field the model does not know occurs in the page's
    /// records, by JSON path (`skill_clusters[].weight`), as
    /// [`tw_model::unknown_fields`] counts them; `None` for every other
    /// record.
    pub fn page_unknown_fields(&self) -> Option<&BTreeMap<String, u64>> {
        self.page.unknown_fields.as_ref().filter(|_| self.first)
    }
}

/// How many leading `records` (at least one, when there are any) have
/// rows that follow each other in one page's buffer, and those rows.
pub(crate) fn rows_run(records: &[RowsRecord]) -> (usize, &[u8]) {
    contiguous_run(records, |record| {
        Some((&record.page.rows[..], record.rows.clone()))
    })
}

/// A buffer, and a range of bytes in it.
type InBuffer<'a> = (&'a [u8], std::ops::Range<usize>);

/// How many leading `items` lie one after the other in one buffer, and
/// their bytes there: `span` gives an item's buffer and its range in it,
/// or `None` for an item that joins no run (the run ends before it; none
/// when it is the first).
fn contiguous_run<T>(items: &[T], span: fn(&T) -> Option<InBuffer<'_>>) -> (usize, &[u8]) {
    let Some((buffer, first)) = items.first().and_then(span) else {
        return (0, &[]);
    };
    let mut end = first.end;
    let run = 1 + items[1..]
        .iter()
        .map_while(span)
        .take_while(|(other, range)| {
            let follows = std::ptr::eq(*other, buffer) && range.start == end;
            end = if follows { range.end } else { end };
            follows
        })
        .count();
    (run, &buffer[first.start..end])
}

impl std::fmt::Debug for RowsRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RowsRecord").field(&self.as_str()).finish()
    }
}

impl<D, L, J> Repr<D> for Rows<L, J>
where
    D: Dataset,
    D::Record: tw_model::Table,
    L: crate::output::Dialect,
    J: RecordJson,
{
    type Item = RowsRecord;

    fn decode_page_spent(
        body: Vec<u8>,
        reuse: Vec<RowsRecord>,
    ) -> Result<SpentPage<RowsRecord>, tw_model::DecodeError> {
        rows_page::<D, L>(body, reuse, J::KEEP, None)
    }

    fn key(item: &RowsRecord, field: &str) -> Option<String> {
        string_field(item.as_str().as_bytes(), field)
    }

    fn release(items: &mut Vec<RowsRecord>) -> Option<Vec<u8>> {
        // One record stays, holding the page's rows buffer for the next
        // page to write into; the page's text goes (the body, when the
        // records kept their JSON: without, it went back when the page
        // was decoded).
        items.truncate(1);
        let item = items.first_mut()?;
        let Some(page) = Arc::get_mut(&mut item.page) else {
            items.clear();
            return None;
        };
        let text = std::mem::take(&mut page.text);
        page.rows.clear();
        page.dialect = None;
        page.unknown_fields = None;
        item.json = 0..0;
        item.rows = 0..0;
        J::KEEP.then(|| text.into_bytes())
    }
}

/// Records as [`Rows`] reads them with [`NoJson`], with the fields the
/// model does not know counted by JSON path from each record's view as
/// its rows are written ([`tw_model::UnknownFields::add_viewed`]), not on
/// a second walk of the record's text: what `tw-export all` and `--stats`
/// read for CSV. A page's counts ride on its first record
/// ([`RowsRecord::page_unknown_fields`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct RowsCounted<L>(PhantomData<L>);

impl<D, L> Repr<D> for RowsCounted<L>
where
    D: Dataset,
    D::Record: tw_model::Table,
    L: crate::output::Dialect,
{
    type Item = RowsRecord;

    fn decode_page_spent(
        body: Vec<u8>,
        reuse: Vec<RowsRecord>,
    ) -> Result<SpentPage<RowsRecord>, tw_model::DecodeError> {
        <RowsCounted<L> as Repr<D>>::decode_page_keeping(body, reuse, usize::MAX)
    }

    fn decode_page_keeping(
        body: Vec<u8>,
        reuse: Vec<RowsRecord>,
        keep: usize,
    ) -> Result<SpentPage<RowsRecord>, tw_model::DecodeError> {
        rows_page::<D, L>(body, reuse, false, Some(keep))
    }

    fn key(item: &RowsRecord, field: &str) -> Option<String> {
        <Rows<L, NoJson> as Repr<D>>::key(item, field)
    }

    fn release(items: &mut Vec<RowsRecord>) -> Option<Vec<u8>> {
        <Rows<L, NoJson> as Repr<D>>::release(items)
    }
}

/// A page of [`Rows`] (or [`RowsCounted`]) records: the page is viewed
/// one record at a time and each record's rows written in dialect `L`
/// into the buffer of a page handed back (`reuse`); the records keep the
/// page's text when `keep_json`, and, with `count_first`, the unknown
/// fields of the page's first that many records (a restarted walk starts
/// over).
fn rows_page<D, L>(
    body: Vec<u8>,
    mut reuse: Vec<RowsRecord>,
    keep_json: bool,
    count_first: Option<usize>,
) -> Result<SpentPage<RowsRecord>, tw_model::DecodeError>
where
    D: Dataset,
    D::Record: tw_model::Table,
    L: crate::output::Dialect,
{
    use tw_model::EachRecord;
    // The rows buffer of a page already written, when it came back.
    let mut buffer = reuse
        .first_mut()
        .and_then(|item| Arc::get_mut(&mut item.page))
        .map(|page| std::mem::take(&mut page.rows))
        .unwrap_or_default();
    buffer.clear();
    let mut items = reuse;
    items.clear();
    let mut csv = crate::output::CsvWriter::in_memory(buffer, L::DIALECT);
    let mut ends = Vec::new();
    let mut counts = count_first.map(|_| tw_model::UnknownFields::default());
    let keep = count_first.unwrap_or(0);
    let page = tw_model::view_page_each::<D>(body, |record| match record {
        EachRecord::Record(view, text) => {
            crate::output::write_rows(&mut csv, |emit| {
                <D::Record as tw_model::Table>::view_rows(view, text, emit)
            })
            .expect("rows written to memory");
            if let Some(counts) = &mut counts
                && ends.len() < keep
            {
                counts.add_viewed::<D::Record>(view, text);
            }
            ends.push(csv.buffered().len());
        }
        EachRecord::Restart => {
            csv.clear();
            ends.clear();
            if let Some(counts) = &mut counts {
                *counts = tw_model::UnknownFields::default();
            }
        }
    })?;
    let mut records = page.records;
    let (text, spent) = if keep_json {
        (page.text, None)
    } else {
        // The body goes; the last record's text stays, alone.
        let last = records.last().map_or("", |json| &page.text[json.clone()]);
        let text = last.to_owned();
        let count = records.len();
        for (i, json) in records.iter_mut().enumerate() {
            *json = if i + 1 == count { 0..text.len() } else { 0..0 };
        }
        (text, Some(page.text.into_bytes()))
    };
    let shared = Arc::new(RowsPage {
        text,
        rows: csv.into_buffer(),
        dialect: Some(L::DIALECT),
        unknown_fields: counts.map(tw_model::UnknownFields::into_counts),
    });
    let mut start = 0;
    items.extend(
        records
            .into_iter()
            .zip(ends)
            .enumerate()
            .map(|(i, (json, end))| {
                let rows = start..end;
                start = end;
                RowsRecord {
                    page: shared.clone(),
                    json,
                    rows,
                    first: i == 0,
                }
            }),
    );
    let page = Page {
        items,
        has_next: page.has_next,
        next_cursor: next_cursor(page.next_starting_after),
    };
    Ok((page, spent))
}

/// The text of string field `field` of a record's JSON text.
fn string_field(record: &[u8], field: &str) -> Option<String> {
    match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(record)
        .ok()?
        .remove(field)?
    {
        serde_json::Value::String(text) => Some(text),
        _ => None,
    }
}

/// Pages handed back for reuse (see [`Pages::recycle`]), shared by the
/// consumer and the source (on the read-ahead thread).
type Pool<T> = Arc<std::sync::Mutex<Vec<Vec<T>>>>;

/// How many recycled pages wait at most (the read-ahead keeps two or three
/// pages in flight).
const POOL_PAGES: usize = 4;

/// The page source of every dataset: one request per page, decoded in
/// representation `R`.
struct Source<D: Dataset, R: Repr<D>> {
    transport: Arc<dyn Transport>,
    request: ExportRequest<D>,
    query: Vec<(String, String)>,
    page: u64,
    pool: Pool<R::Item>,
    repr: PhantomData<R>,
    /// With read-ahead: the next page's request, sent while this page is
    /// decoded (see [`crate::prefetch`]).
    prefetch: Option<Prefetch>,
    /// Records left before `max_records` (none: no cap), as far as the
    /// pages decoded so far tell: no request is sent ahead that a full
    /// page could make unnecessary.
    room: Option<u64>,
}

impl<D: Dataset, R: Repr<D>> std::fmt::Debug for Source<D, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("request", &self.request)
            .field("page", &self.page)
            .finish_non_exhaustive()
    }
}

impl<D: Dataset, R: Repr<D>> Source<D, R> {
    /// With read-ahead, sends the request for the page after the one in
    /// `body` from the helper thread, when the body names its cursor at
    /// its ends and the page after it cannot be past `max_records`.
    fn send_ahead(&mut self, body: &[u8]) {
        let limit = u64::from(self.request.limit().get());
        if self.prefetch.as_ref().is_none_or(Prefetch::is_pending)
            || D::PAGING != Paging::Cursor
            || self.room.is_some_and(|room| room <= limit)
        {
            return;
        }
        if let (Some(request), Some(prefetch)) = (
            guessed_request(&self.request, &self.query, body),
            &mut self.prefetch,
        ) {
            prefetch.start(request);
        }
    }

    /// Waits for a request sent ahead to finish, dropping its answer.
    fn settle(&mut self) {
        if let Some(prefetch) = &mut self.prefetch {
            prefetch.settle();
        }
    }

    /// The HTTP request for the page after `cursor` (page number `self.page`).
    fn http_request(&self, cursor: Option<&Cursor>) -> Result<Request, Error> {
        page_request(&self.request, &self.query, self.page, cursor)
    }
}

/// The request for the page after the one in `body`, when the body names
/// its cursor at its ends ([`tw_model::peek_next_cursor`]). A request that
/// cannot be made is not guessed: the paginator's own request for that
/// cursor reports why.
fn guessed_request<D: Dataset>(
    request: &ExportRequest<D>,
    query: &[(String, String)],
    body: &[u8],
) -> Option<Request> {
    let next = next_cursor(Some(tw_model::peek_next_cursor(body)?.to_owned()))?;
    page_request(request, query, 0, Some(&next)).ok()
}

/// The HTTP request of `request` (query pairs `query`) for the page after
/// `cursor`, page number `page` (named in an error).
fn page_request<D: Dataset>(
    request: &ExportRequest<D>,
    query: &[(String, String)],
    page: u64,
    cursor: Option<&Cursor>,
) -> Result<Request, Error> {
    let mut http = match (D::PAGING, D::METHOD) {
        (Paging::Document { .. }, Method::Get) => Request::get(D::PATH),
        (Paging::Document { .. }, Method::Post) => {
            Request::post_json(D::PATH, json_body(&request.body))
        }
        (Paging::Cursor, Method::Post) => {
            if let Some(cursor) = cursor {
                tw_model::check_cursor(cursor.as_str()).map_err(|_| Error::Protocol {
                    message: format!(
                        "page {} carried a cursor of {} characters as next_starting_after; \
                         the API accepts at most {}",
                        page.saturating_sub(1),
                        cursor.as_str().chars().count(),
                        tw_model::CURSOR_MAX_LEN
                    ),
                    checkpoint: None,
                })?;
            }
            let body = request.page_body(cursor.map(Cursor::as_str));
            Request::post_json(D::PATH, json_body(&body))
        }
        (Paging::Cursor, Method::Get) => {
            // No TechWolf export pages over GET: limit and cursor would be lost.
            return Err(Error::Config(format!(
                "dataset {} declares cursor paging over GET, which has no request body; \
                 this client pages with POST only",
                D::NAME
            )));
        }
    };
    for (name, value) in query {
        http = http.with_query(name, value);
    }
    Ok(http)
}

/// A request body as JSON bytes.
fn json_body<T: serde::Serialize>(body: &T) -> Vec<u8> {
    serde_json::to_vec(body).expect("a request always serializes")
}

impl<D: Dataset, R: Repr<D>> PageSource for Source<D, R> {
    type Item = R::Item;
    type Error = Error;

    fn fetch(&mut self, cursor: Option<&Cursor>) -> Result<Page<R::Item>, Error> {
        self.page += 1;
        let started = std::time::Instant::now();
        let request = match self.http_request(cursor) {
            Ok(request) => request,
            Err(err) => {
                self.settle();
                return Err(err);
            }
        };
        let response = match &mut self.prefetch {
            Some(prefetch) => prefetch.send(&request)?,
            None => self.transport.send(&request)?,
        };
        let bytes = response.body.len();
        self.send_ahead(&response.body);
        let reuse = self
            .pool
            .lock()
            .ok()
            .and_then(|mut pool| pool.pop())
            .unwrap_or_default();
        let decoded = match self.room {
            // The page that may reach `max_records`: its records past it
            // are dropped by the paginator.
            Some(room) => {
                let keep = usize::try_from(room).unwrap_or(usize::MAX);
                R::decode_page_keeping(response.body, reuse, keep)
            }
            None => R::decode_page_spent(response.body, reuse),
        };
        let page = match decoded {
            Ok((page, spent)) => {
                if let Some(body) = spent {
                    self.transport.recycle(body);
                }
                page
            }
            Err(source) => {
                // No request outlives a failed page.
                self.settle();
                return Err(Error::Decode {
                    page: self.page,
                    source,
                    checkpoint: None,
                });
            }
        };
        if let Some(room) = &mut self.room {
            *room = room.saturating_sub(page.items.len() as u64);
        }
        tracing::debug!(
            dataset = D::NAME,
            page = self.page,
            records = page.items.len(),
            bytes,
            elapsed_ms = started.elapsed().as_millis() as u64,
            has_next = page.has_next,
            "fetched page"
        );
        Ok(page)
    }
}

/// One record as the server's JSON text, checked against the model. It
/// shares its page's body with the page's other records, so a page of
/// records costs one allocation, not one per record.
#[derive(Clone)]
pub struct RawRecord {
    body: Arc<Vec<u8>>,
    range: std::ops::Range<usize>,
    /// No line break in the text (the scanner said so for the page).
    one_line: bool,
    /// On a page's first record read as [`RawCounted`]: the unknown fields
    /// of all the page's records.
    page_unknown_fields: Option<Arc<BTreeMap<String, u64>>>,
}

/// How many leading `records` (none when the first is not on one line,
/// or is not followed by the line break [`Raw`] puts after a record) are
/// JSON Lines that follow each other in one page's body, and their bytes:
/// each record's text and its line break.
pub(crate) fn lines_run(records: &[RawRecord]) -> (usize, &[u8]) {
    contiguous_run(records, |record| {
        let line = record.range.start..record.range.end + 1;
        record.is_line().then(|| (&record.body[..], line))
    })
}

impl RawRecord {
    /// The text is on one line and a line break follows it in the body.
    fn is_line(&self) -> bool {
        self.one_line && self.body.get(self.range.end) == Some(&b'\n')
    }

    /// The record's JSON text, exactly as the server sent it (checked to
    /// be UTF-8 on every call; writers take [`RawRecord::as_bytes`]).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).expect("decode_raw only yields ranges of valid UTF-8")
    }

    /// The record's JSON text as bytes (valid UTF-8), exactly as sent.
    pub fn as_bytes(&self) -> &[u8] {
        &self.body[self.range.clone()]
    }

    /// Whether the text surely has no line break (`false` when the server
    /// pretty-printed it, or when the page was not scanned for it).
    pub fn is_one_line(&self) -> bool {
        self.one_line
    }

    /// For the first record of a page read as [`RawCounted`]: how many
    /// times each field the model does not know occurs in the page's
    /// records, by JSON path (`skill_clusters[].weight`), as
    /// [`tw_model::unknown_fields`] counts them; `None` for every other
    /// record.
    pub fn page_unknown_fields(&self) -> Option<&BTreeMap<String, u64>> {
        self.page_unknown_fields.as_deref()
    }
}

impl std::fmt::Debug for RawRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RawRecord").field(&self.as_str()).finish()
    }
}

/// The records of an export; see [`Client::export`].
///
/// Fused: after an `Err` it yields `None`. The error carries the checkpoint
/// to resume from.
pub struct Records<D: Dataset> {
    inner: tw_paginate::Items<Source<D, Typed>>,
}

impl<D: Dataset> std::fmt::Debug for Records<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Records")
            .field("dataset", &D::NAME)
            .field("checkpoint", self.checkpoint())
            .finish_non_exhaustive()
    }
}

impl<D: Dataset> Records<D> {
    /// Where a new iterator continues without losing or repeating a record
    /// (at page granularity; see tw-paginate's checkpoint contract).
    pub fn checkpoint(&self) -> &Checkpoint {
        self.inner.checkpoint()
    }

    /// Records yielded so far.
    pub fn yielded(&self) -> u64 {
        self.inner.yielded()
    }
}

impl<D: Dataset> Iterator for Records<D> {
    type Item = Result<D::Record, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(self.inner.next()?.map_err(Error::from_pagination))
    }
}

impl<D: Dataset> std::iter::FusedIterator for Records<D> {}

/// Whole pages of an export; see [`Client::pages`].
pub struct Pages<D: Dataset, R: Repr<D>> {
    inner: tw_paginate::Pages<Source<D, R>>,
    pool: Pool<R::Item>,
    /// Where a recycled page's body goes, to be read into again.
    transport: Arc<dyn Transport>,
}

impl<D: Dataset, R: Repr<D>> std::fmt::Debug for Pages<D, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages")
            .field("dataset", &D::NAME)
            .field("checkpoint", self.checkpoint())
            .finish_non_exhaustive()
    }
}

impl<D: Dataset, R: Repr<D>> Pages<D, R> {
    /// The position after the last page yielded.
    pub fn checkpoint(&self) -> &Checkpoint {
        self.inner.checkpoint()
    }

    /// Hands a page's records back once they are written, so a later page
    /// is decoded into them: typed records keep their strings' and lists'
    /// capacity, and decoding allocates nothing per record once warm; the
    /// body a page's records keep ([`Raw`], [`Viewed`], [`Rows`] with
    /// their JSON; see [`Repr::release`]) goes back to the transport,
    /// which reads a later response into it without zeroing it again (when
    /// no clone of a record still holds it). Optional; the records are
    /// overwritten entirely.
    pub fn recycle(&self, mut page: Vec<R::Item>) {
        if let Some(body) = R::release(&mut page) {
            self.transport.recycle(body);
        }
        if let Ok(mut pool) = self.pool.lock()
            && pool.len() < POOL_PAGES
        {
            pool.push(page);
        }
    }

    /// The next page if it is already fetched (read ahead) or arrives
    /// within `wait`, else `Poll::Pending` and nothing is taken; see
    /// [`tw_paginate::Pages::next_within`]. Without read-ahead it is
    /// `Pending` until [`Iterator::next`] has ended.
    ///
    /// The `tw-export` command uses it to checkpoint only when the next
    /// page is not there yet (or the last checkpoint is a second old):
    /// writing a checkpoint while it would wait anyway costs no time.
    pub fn next_within(
        &mut self,
        wait: std::time::Duration,
    ) -> std::task::Poll<Option<<Self as Iterator>::Item>> {
        self.inner
            .next_within(wait)
            .map(|step| step.map(|page| page.map_err(Error::from_pagination)))
    }
}

impl<D: Dataset, R: Repr<D>> Iterator for Pages<D, R> {
    type Item = Result<Vec<R::Item>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(self.inner.next()?.map_err(Error::from_pagination))
    }
}

impl<D: Dataset, R: Repr<D>> std::iter::FusedIterator for Pages<D, R> {}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::mpsc::{Sender, channel};
    use std::time::Duration;

    use tw_transport::testing::ScriptedTransport;
    use tw_transport::{Response, Transport};

    use super::*;

    /// A client over `transport` that reads ahead, as the `tw-export`
    /// command's does.
    fn reading_ahead(transport: Arc<dyn Transport>) -> Client {
        Client {
            transport,
            retries: Arc::new(AtomicU64::new(0)),
            connections: None,
            base_url: String::new(),
            read_ahead: true,
            derive_missing_cursors: false,
        }
    }

    /// A page of skill clusters with one record per id, laid out as the
    /// sandbox lays pages out.
    fn page(ids: &[&str], next: Option<&str>) -> String {
        let records: Vec<String> = ids
            .iter()
            .map(|id| format!(r#"{{"external_id":"{id}"}}"#))
            .collect();
        let records = records.join(",");
        match next {
            Some(next) => format!(
                r#"{{"has_next":true,"records":[{records}],"next_starting_after":"{next}"}}"#
            ),
            None => format!(r#"{{"has_next":false,"records":[{records}]}}"#),
        }
    }

    fn scripted(pages: &[String]) -> Arc<ScriptedTransport> {
        let scripted = Arc::new(ScriptedTransport::new());
        for body in pages {
            scripted.push_json(200, body);
        }
        scripted
    }

    fn ids(client: &Client, max_records: Option<u64>) -> Vec<String> {
        let request = ExportRequest::<SkillClusters>::new(2).unwrap();
        client
            .pages::<SkillClusters, crate::Raw>(request, Checkpoint::start(), max_records)
            .flat_map(|page| page.unwrap())
            .map(|record| string_field(record.as_bytes(), "external_id").unwrap())
            .collect()
    }

    fn five_pages() -> Vec<String> {
        vec![
            page(&["a", "b"], Some("c1")),
            page(&["c", "d"], Some("c2")),
            page(&["e", "f"], Some("c3")),
            page(&["g", "h"], Some("c4")),
            page(&["i"], None),
        ]
    }

    /// A transport that keeps the bodies handed back.
    struct Keeping {
        inner: Arc<ScriptedTransport>,
        back: Mutex<Vec<Vec<u8>>>,
    }

    impl Transport for Keeping {
        fn send(&self, request: &Request) -> Result<Response, tw_transport::Error> {
            self.inner.send(request)
        }

        fn recycle(&self, body: Vec<u8>) {
            self.back.lock().unwrap().push(body);
        }
    }

    /// The lengths of the bodies an export of [`five_pages`] in
    /// representation `R` hands back, each page recycled once read; a
    /// clone of the second page's first item is kept meanwhile, and must
    /// still read `"c"`.
    fn handed_back<R: Repr<SkillClusters>>(
        read_ahead: bool,
        id: impl Fn(&R::Item) -> String,
    ) -> Vec<usize>
    where
        R::Item: Clone,
    {
        let keeping = Arc::new(Keeping {
            inner: scripted(&five_pages()),
            back: Mutex::new(Vec::new()),
        });
        let client = if read_ahead {
            reading_ahead(keeping.clone())
        } else {
            Client::with_transport(keeping.clone())
        };
        let request = ExportRequest::<SkillClusters>::new(2).unwrap();
        let mut export = client.pages::<SkillClusters, R>(request, Checkpoint::start(), None);
        let mut kept = None;
        let mut ids = Vec::new();
        while let Some(page) = export.next() {
            let page = page.unwrap();
            ids.extend(page.iter().map(&id));
            if ids.len() == 4 {
                kept = Some(page[0].clone());
            }
            export.recycle(page);
        }
        assert_eq!(ids, ["a", "b", "c", "d", "e", "f", "g", "h", "i"]);
        assert_eq!(id(&kept.unwrap()), "c");
        let back = keeping.back.lock().unwrap();
        back.iter().map(Vec::len).collect()
    }

    #[test]
    fn runs_never_reach_into_another_pages_buffer() {
        // Two pages laid out alike: the second record of one starts where
        // the first's line ends in the other, at the same offset.
        let (one, two) = (page(&["a", "b"], None), page(&["c", "d"], None));
        let raw = |body: &String| {
            <crate::Raw as Repr<SkillClusters>>::decode_page(body.clone().into_bytes(), Vec::new())
                .unwrap()
                .items
        };
        let (one, two) = (raw(&one), raw(&two));
        let (run, lines) = lines_run(&one);
        assert_eq!(
            (run, lines),
            (
                2,
                &b"{\"external_id\":\"a\"}\n{\"external_id\":\"b\"}\n"[..]
            )
        );
        let mixed = [one[0].clone(), two[1].clone()];
        assert_eq!(lines_run(&mixed), (1, &b"{\"external_id\":\"a\"}\n"[..]));

        use crate::output::Rfc4180Csv;
        let rows = |body: &[u8]| {
            <Rows<Rfc4180Csv> as Repr<SkillClusters>>::decode_page(body.to_vec(), Vec::new())
                .unwrap()
                .items
        };
        let (one, two) = (
            rows(page(&["a", "b"], None).as_bytes()),
            rows(page(&["c", "d"], None).as_bytes()),
        );
        assert_eq!(rows_run(&one), (2, &b"a,,,,,,,,,,,,\nb,,,,,,,,,,,,\n"[..]));
        let mixed = [one[0].clone(), two[1].clone()];
        assert_eq!(rows_run(&mixed), (1, &b"a,,,,,,,,,,,,\n"[..]));
    }

    #[test]
    fn spent_bodies_go_back_to_the_transport() {
        let pages = five_pages();
        let lengths = |pages_back: &[usize]| -> Vec<usize> {
            pages_back.iter().map(|&i| pages[i].len()).collect()
        };
        let raw = |r: &RawRecord| string_field(r.as_bytes(), "external_id").unwrap();
        let typed = |r: &tw_model::EmployeeSkillClusters| r.external_id.clone();
        let viewed = |r: &crate::ViewedRecord<_>| {
            string_field(r.as_str().as_bytes(), "external_id").unwrap()
        };
        let rows = |r: &RowsRecord| {
            let rows = String::from_utf8(r.rows().to_vec()).unwrap();
            rows.split('"').nth(1).unwrap().to_owned()
        };
        use crate::output::TechwolfCsv;
        for read_ahead in [false, true] {
            // Raw records hold their page's body until recycled; a record
            // clone keeps the second page's.
            assert_eq!(
                handed_back::<crate::Raw>(read_ahead, raw),
                lengths(&[0, 2, 3, 4]),
                "raw, read ahead: {read_ahead}"
            );
            // Views and CSV rows with their JSON: the same, through the
            // page's text.
            assert_eq!(
                handed_back::<crate::Viewed>(read_ahead, viewed),
                lengths(&[0, 2, 3, 4]),
                "views, read ahead: {read_ahead}"
            );
            assert_eq!(
                handed_back::<Rows<TechwolfCsv>>(read_ahead, rows),
                lengths(&[0, 2, 3, 4]),
                "rows, read ahead: {read_ahead}"
            );
            // Typed records and rows without JSON keep no body: each goes
            // back as soon as its page is decoded.
            assert_eq!(
                handed_back::<Typed>(read_ahead, typed),
                lengths(&[0, 1, 2, 3, 4]),
                "typed, read ahead: {read_ahead}"
            );
            assert_eq!(
                handed_back::<Rows<TechwolfCsv, NoJson>>(read_ahead, rows),
                lengths(&[0, 1, 2, 3, 4]),
                "rows without JSON, read ahead: {read_ahead}"
            );
        }
    }

    #[test]
    fn reading_ahead_sends_the_requests_it_would_send_without() {
        let pages = five_pages();
        let alone = scripted(&pages);
        let ahead = scripted(&pages);
        let expected = ids(&Client::with_transport(alone.clone()), None);
        assert_eq!(expected, ["a", "b", "c", "d", "e", "f", "g", "h", "i"]);
        assert_eq!(ids(&reading_ahead(ahead.clone()), None), expected);
        assert_eq!(alone.requests().len(), 5);
        assert_eq!(ahead.requests(), alone.requests());
    }

    #[test]
    fn no_request_goes_out_ahead_that_max_records_may_not_need() {
        let pages = five_pages();
        for max in [1, 3, 4, 5] {
            let alone = scripted(&pages);
            let ahead = scripted(&pages);
            let expected = ids(&Client::with_transport(alone.clone()), Some(max));
            assert_eq!(expected.len() as u64, max);
            assert_eq!(ids(&reading_ahead(ahead.clone()), Some(max)), expected);
            assert_eq!(ahead.requests(), alone.requests(), "max_records {max}");
        }
    }

    #[test]
    fn a_request_sent_ahead_is_answered_before_a_bad_page_is_reported() {
        // The first page's record lacks its required id; its ends still
        // name a next page.
        let bad = r#"{"has_next":true,"records":[{"team":"x"}],"next_starting_after":"c1"}"#;
        let scripted = scripted(&[bad.to_owned(), page(&["b"], None)]);
        let client = reading_ahead(scripted.clone());
        let request = ExportRequest::<SkillClusters>::new(2).unwrap();
        let mut pages =
            client.pages::<SkillClusters, crate::Raw>(request, Checkpoint::start(), None);
        let err = pages.next().unwrap().unwrap_err();
        assert!(matches!(err, Error::Decode { page: 1, .. }), "{err:?}");
        // The guessed request was sent and its answer taken (dropped):
        // nothing is in flight once the error is out.
        assert_eq!(scripted.requests().len(), 2);
        assert_eq!(scripted.remaining(), 0);
        assert!(pages.next().is_none());
    }

    /// A transport that tells `sent` the body of each request as it
    /// arrives, then answers from a script.
    struct Telling {
        sent: Mutex<Sender<String>>,
        script: ScriptedTransport,
    }

    impl Transport for Telling {
        fn send(&self, request: &Request) -> Result<Response, tw_transport::Error> {
            let body = String::from_utf8_lossy(request.body.as_deref().unwrap_or_default());
            let _ = self.sent.lock().unwrap().send(body.into_owned());
            self.script.send(request)
        }
    }

    /// A transport with a bug.
    struct Panicking;

    impl Transport for Panicking {
        fn send(&self, _: &Request) -> Result<Response, tw_transport::Error> {
            panic!("a transport bug");
        }
    }

    #[test]
    fn a_panic_in_the_transport_reaches_the_caller() {
        let client = reading_ahead(Arc::new(Panicking));
        let request = ExportRequest::<SkillClusters>::new(2).unwrap();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            client
                .pages::<SkillClusters, crate::Raw>(request, Checkpoint::start(), None)
                .count()
        }));
        let panic = caught.expect_err("the panic is raised, not taken for the end");
        assert_eq!(panic.downcast_ref::<&str>(), Some(&"a transport bug"));
    }

    #[test]
    fn the_next_request_goes_out_before_the_page_is_taken() {
        let (sent, arrived) = channel();
        let script = ScriptedTransport::new();
        for body in five_pages() {
            script.push_json(200, &body);
        }
        let client = reading_ahead(Arc::new(Telling {
            sent: Mutex::new(sent),
            script,
        }));
        let request = ExportRequest::<SkillClusters>::new(2).unwrap();
        let mut pages =
            client.pages::<SkillClusters, crate::Raw>(request, Checkpoint::start(), None);
        // Nothing is taken yet: the read-ahead thread holds the first page
        // and the helper has already asked for the second. (The wait only
        // ends a test that would otherwise hang.)
        let bodies: Vec<String> = (0..2)
            .map(|_| arrived.recv_timeout(Duration::from_secs(60)).unwrap())
            .collect();
        assert!(!bodies[0].contains("starting_after"), "{}", bodies[0]);
        assert!(
            bodies[1].contains(r#""starting_after":"c1""#),
            "{}",
            bodies[1]
        );
        assert_eq!(pages.next().unwrap().unwrap().len(), 2);
        assert_eq!(pages.by_ref().map(|p| p.unwrap().len()).sum::<usize>(), 7);
    }
}
