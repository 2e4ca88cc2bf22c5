//! The client: settings in, typed iterators out.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tw_model::{EmployeeSkillClusters, SkillClustersPage, SkillClustersRequest};
use tw_paginate::{Checkpoint, Cursor, Page, PageSource, Paginator};
use tw_transport::{
    AuthTransport, BaseUrl, ClientCredentials, Credentials, HttpConfig, HttpTransport, Request,
    RetryEvent, RetryPolicy, RetryTransport, Secret, Transport,
};

use crate::Error;

/// The export endpoint this client reads.
pub const SKILL_CLUSTERS_PATH: &str = "/export/employees/skill_clusters";

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
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.http.api_version = Some(version.into());
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
    /// consumed (default on; pages arrive exactly as without).
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

    /// A client over any transport (a test double, a custom stack). The
    /// transport must add authentication itself. Pages are fetched on the
    /// calling thread (no read-ahead), which keeps test doubles simple.
    pub fn with_transport(transport: impl Transport + 'static) -> Client {
        Client {
            transport: Arc::new(transport),
            retries: Arc::new(AtomicU64::new(0)),
            base_url: String::new(),
            read_ahead: false,
            derive_missing_cursors: false,
        }
    }

    /// The base URL requests go to (empty for [`Client::with_transport`]).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Retries made so far by this client and its clones.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// Where an export of `request` starts: after its `starting_after`, or
    /// at the first page.
    pub fn start_of(request: &SkillClustersRequest) -> Checkpoint {
        request
            .starting_after
            .as_ref()
            .map_or_else(Checkpoint::start, |c| {
                Checkpoint::after(Cursor::new(c.as_str()))
            })
    }

    /// Every employee's skill clusters, one record at a time, fetched lazily
    /// page by page. Starts after `request.starting_after` if set.
    ///
    /// ```no_run
    /// # let client: tw_export::Client = todo!();
    /// use tw_model::{Include, SkillClustersRequest};
    ///
    /// let request = SkillClustersRequest::new(100)?.with_include(Include::ALL);
    /// for employee in client.skill_clusters(request) {
    ///     let employee = employee?;
    ///     println!("{}: {} clusters", employee.external_id, employee.clusters().len());
    /// }
    /// # Ok::<(), tw_export::Error>(())
    /// ```
    pub fn skill_clusters(&self, request: SkillClustersRequest) -> SkillClusters {
        let start = Client::start_of(&request);
        self.resume_skill_clusters(request, start)
    }

    /// Like [`Client::skill_clusters`], continuing from a checkpoint (taken
    /// with [`SkillClusters::checkpoint`] or from an error); the request's
    /// own `starting_after` is ignored.
    pub fn resume_skill_clusters(
        &self,
        request: SkillClustersRequest,
        checkpoint: Checkpoint,
    ) -> SkillClusters {
        let paginator = self.paginator(Source::new(self, request, &checkpoint), checkpoint, None);
        SkillClusters {
            inner: if self.read_ahead {
                paginator.items_read_ahead()
            } else {
                paginator.items()
            },
        }
    }

    /// Whole pages of the export, for callers that write in batches and
    /// record a checkpoint after each page. `max_records` ends the export
    /// cleanly after that many records.
    pub fn skill_cluster_pages(
        &self,
        request: SkillClustersRequest,
        checkpoint: Checkpoint,
        max_records: Option<u64>,
    ) -> SkillClusterPages {
        let source = Source::new(self, request, &checkpoint);
        self.pages(self.paginator(source, checkpoint, max_records))
    }

    /// Whole pages with each record as the server's JSON text (checked
    /// against the model, which accepts exactly the same records as
    /// [`Client::skill_cluster_pages`] does). Writing these bytes gives the
    /// same JSON values as decoding and re-serializing, at about twice the
    /// speed; the `tw-export` command does this for JSON Lines and JSON.
    pub fn skill_cluster_raw_pages(
        &self,
        request: SkillClustersRequest,
        checkpoint: Checkpoint,
        max_records: Option<u64>,
    ) -> SkillClusterRawPages {
        let source = RawSource(Source::new(self, request, &checkpoint));
        self.pages(self.paginator(source, checkpoint, max_records))
    }

    fn paginator<S>(
        &self,
        source: S,
        checkpoint: Checkpoint,
        max_records: Option<u64>,
    ) -> Paginator<S>
    where
        S: PageSource<Error = Error> + HasExternalId,
    {
        let mut paginator = Paginator::resume(source, checkpoint);
        if let Some(max) = max_records {
            paginator = paginator.max_items(max);
        }
        if self.derive_missing_cursors {
            paginator = paginator.cursor_fallback(|item| S::external_id(item).map(Cursor::new));
        }
        paginator
    }

    fn pages<S>(&self, paginator: Paginator<S>) -> ExportPages<S>
    where
        S: PageSource<Error = Error> + Send + 'static,
        S::Item: Send + 'static,
    {
        ExportPages {
            inner: if self.read_ahead {
                paginator.pages_read_ahead()
            } else {
                paginator.pages()
            },
        }
    }
}

/// How the missing-cursor fallback finds a record's external id.
pub trait HasExternalId: PageSource {
    /// The external id of `item`, if it has one.
    fn external_id(item: &Self::Item) -> Option<String>;
}

impl HasExternalId for Source {
    fn external_id(item: &EmployeeSkillClusters) -> Option<String> {
        Some(item.external_id.clone())
    }
}

impl HasExternalId for RawSource {
    fn external_id(item: &RawRecord) -> Option<String> {
        #[derive(serde::Deserialize)]
        struct Id {
            external_id: String,
        }
        serde_json::from_str::<Id>(item.as_str())
            .ok()
            .map(|id| id.external_id)
    }
}

/// The page source: one POST per page, decoded with tw-model.
pub struct Source {
    transport: Arc<dyn Transport>,
    request: SkillClustersRequest,
    page: u64,
}

impl Source {
    fn new(client: &Client, mut request: SkillClustersRequest, checkpoint: &Checkpoint) -> Source {
        request.starting_after = None;
        Source {
            transport: client.transport.clone(),
            request,
            page: checkpoint.pages,
        }
    }
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("request", &self.request)
            .field("page", &self.page)
            .finish_non_exhaustive()
    }
}

/// Sends the request for the page after `cursor` (page number `page`).
fn post_page(
    transport: &dyn Transport,
    request: &SkillClustersRequest,
    cursor: Option<&Cursor>,
    page: u64,
) -> Result<tw_transport::Response, Error> {
    let starting_after = match cursor {
        None => None,
        Some(cursor) => Some(tw_model::Cursor::new(cursor.as_str()).map_err(|_| Error::Protocol {
            message: format!(
                "page {} carried a cursor of {} characters as next_starting_after; the API accepts at most {}",
                page - 1,
                cursor.as_str().chars().count(),
                tw_model::Cursor::MAX_LEN
            ),
            checkpoint: None,
        })?),
    };
    let body = {
        let mut request = request.clone();
        request.starting_after = starting_after;
        serde_json::to_vec(&request).expect("a request always serializes")
    };
    Ok(transport.send(&Request::post_json(SKILL_CLUSTERS_PATH, body))?)
}

fn next_cursor(next: Option<String>) -> Option<Cursor> {
    next.filter(|c| !c.is_empty()).map(Cursor::new)
}

impl PageSource for Source {
    type Item = EmployeeSkillClusters;
    type Error = Error;

    fn fetch(&mut self, cursor: Option<&Cursor>) -> Result<Page<EmployeeSkillClusters>, Error> {
        let (_, page) = self.fetch_decoded(cursor, tw_model::decode::<SkillClustersPage>, |p| {
            (p.records.len(), p.has_next)
        })?;
        Ok(Page {
            items: page.records,
            has_next: page.has_next,
            next_cursor: next_cursor(page.next_starting_after),
        })
    }
}

impl Source {
    /// Requests the next page and decodes it with `decode`; counts pages,
    /// names the page in decode errors and logs it (`summary` gives the
    /// record count and `has_next`). Returns the body with the decoded page.
    fn fetch_decoded<P>(
        &mut self,
        cursor: Option<&Cursor>,
        decode: impl FnOnce(&[u8]) -> Result<P, tw_model::DecodeError>,
        summary: impl Fn(&P) -> (usize, bool),
    ) -> Result<(Vec<u8>, P), Error> {
        self.page += 1;
        let started = std::time::Instant::now();
        let response = post_page(&*self.transport, &self.request, cursor, self.page)?;
        let page = decode(&response.body).map_err(|source| Error::Decode {
            page: self.page,
            source,
            checkpoint: None,
        })?;
        let (records, has_next) = summary(&page);
        tracing::debug!(
            page = self.page,
            records,
            bytes = response.body.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            has_next,
            "fetched page"
        );
        Ok((response.body, page))
    }
}

/// The page source of [`Client::skill_cluster_raw_pages`]: records stay the
/// server's JSON text, each checked against the model.
#[derive(Debug)]
pub struct RawSource(Source);

/// One record as the server's JSON text, checked against the model. It
/// shares its page's body with the page's other records, so a page of
/// records costs one allocation, not one per record.
#[derive(Clone)]
pub struct RawRecord {
    body: Arc<Vec<u8>>,
    range: std::ops::Range<usize>,
}

impl RawRecord {
    /// The record's JSON text, exactly as the server sent it.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.body[self.range.clone()])
            .expect("decode_raw only yields ranges of valid UTF-8")
    }
}

impl std::fmt::Debug for RawRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RawRecord").field(&self.as_str()).finish()
    }
}

impl PageSource for RawSource {
    type Item = RawRecord;
    type Error = Error;

    fn fetch(&mut self, cursor: Option<&Cursor>) -> Result<Page<RawRecord>, Error> {
        let (body, page) =
            self.0
                .fetch_decoded(cursor, tw_model::decode_raw::<EmployeeSkillClusters>, |p| {
                    (p.records.len(), p.has_next)
                })?;
        let body = Arc::new(body);
        Ok(Page {
            items: page
                .records
                .into_iter()
                .map(|range| RawRecord {
                    body: body.clone(),
                    range,
                })
                .collect(),
            has_next: page.has_next,
            next_cursor: next_cursor(page.next_starting_after),
        })
    }
}

/// An iterator of employees' skill clusters; see [`Client::skill_clusters`].
///
/// Fused: after an `Err` it yields `None`. The error carries the checkpoint
/// to resume from.
#[derive(Debug)]
pub struct SkillClusters {
    inner: tw_paginate::Items<Source>,
}

impl SkillClusters {
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

impl Iterator for SkillClusters {
    type Item = Result<EmployeeSkillClusters, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(self.inner.next()?.map_err(Error::from_pagination))
    }
}

impl std::iter::FusedIterator for SkillClusters {}

/// An iterator of whole pages of an export; see
/// [`Client::skill_cluster_pages`] and [`Client::skill_cluster_raw_pages`].
#[derive(Debug)]
pub struct ExportPages<S: PageSource> {
    inner: tw_paginate::Pages<S>,
}

/// Pages of decoded records.
pub type SkillClusterPages = ExportPages<Source>;

/// Pages of records kept as the server's JSON text.
pub type SkillClusterRawPages = ExportPages<RawSource>;

impl<S: PageSource<Error = Error>> ExportPages<S> {
    /// The position after the last page yielded.
    pub fn checkpoint(&self) -> &Checkpoint {
        self.inner.checkpoint()
    }
}

impl<S: PageSource<Error = Error>> Iterator for ExportPages<S> {
    type Item = Result<Vec<S::Item>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(self.inner.next()?.map_err(Error::from_pagination))
    }
}

impl<S: PageSource<Error = Error>> std::iter::FusedIterator for ExportPages<S> {}
