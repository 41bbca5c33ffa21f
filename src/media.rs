//! The bytes of uploaded files, in a folder on the local disk (the default) or in an
//! S3-compatible bucket (for several nodes), behind `object_store`'s one interface.
//!
//! Uploads stream: the body is written in parts as it arrives, so a transfer holds at most a
//! few parts in memory whatever the file's size (small parts on the local disk, S3's 5 MiB
//! minimum part there). An upload that fails, is refused or is dropped half-way is aborted,
//! which removes its parts; only a finished upload creates the object. Downloads stream too.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::TryStreamExt;
use futures_util::stream::{BoxStream, Stream, StreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{GetResultPayload, ObjectStore, ObjectStoreExt, WriteMultipart};

use crate::domain::file::{SNIFF_BYTES, Sniffed};

/// How long an upload holding its turn waits for its client's next bytes before it lets
/// another upload take the turn.
const SLOW_CLIENT: std::time::Duration = std::time::Duration::from_millis(200);
/// Parts in flight per upload: one being sent while the next fills.
const PARTS_IN_FLIGHT: usize = 2;
/// Part size on the local disk: parts are appended to a staging file, so small ones only
/// bound memory.
const LOCAL_PART: usize = 256 * 1024;
/// Part size on S3, whose smallest part (but the last) is 5 MiB.
const S3_PART: usize = 5 * 1024 * 1024;
/// Bytes read from a local file per blocking read of a download. `object_store`'s own local
/// stream reads 8 KiB per hop to a blocking thread, which held downloads to a sixth of what
/// the disk's page cache serves; no thread is held while the client reads.
const LOCAL_READ: usize = 256 * 1024;

/// Makes rustls use ring for every HTTPS client of this process (the S3 client's, and any
/// other `reqwest` client, which share its build): called before building one. Repeated
/// calls do nothing.
pub fn install_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Where uploaded files are kept.
#[derive(Clone)]
pub struct MediaStore {
    store: Arc<dyn ObjectStore>,
    part: usize,
    /// Whether parts are written by [`BACKGROUND`]'s threads (the local disk, where writing
    /// is the CPU's copy of the bytes into the page cache).
    background: bool,
}

impl std::fmt::Debug for MediaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MediaStore({})", self.store)
    }
}

/// A finished upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Bytes written.
    pub size: u64,
    /// What its first bytes say it is.
    pub sniffed: Sniffed,
}

/// Why an upload did not finish; whatever it had written is gone.
#[derive(Debug)]
pub enum PutError {
    /// The file passed the size limit.
    TooLarge,
    /// The file was empty.
    Empty,
    /// The client's body broke off or was malformed.
    Body(String),
    /// The store failed; for the log.
    Store(String),
}

impl MediaStore {
    /// Opens the store named by `spec`: `s3://BUCKET` for a bucket (endpoint, region and
    /// credentials from the standard `AWS_*` variables), or a folder (a path or `file://PATH`),
    /// created if missing. `s3_settings` override the environment's S3 settings.
    pub fn open(spec: &str, s3_settings: &[(String, String)]) -> Result<Self, String> {
        if let Some(bucket) = spec.strip_prefix("s3://") {
            let bucket = bucket.trim_end_matches('/');
            if bucket.is_empty() || bucket.contains('/') {
                return Err(format!("media store {spec}: expected s3://BUCKET"));
            }
            install_tls();
            let mut builder =
                object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
            for (key, value) in s3_settings {
                let key = key
                    .parse()
                    .map_err(|e| format!("media store setting {key}: {e}"))?;
                builder = builder.with_config(key, value);
            }
            let s3 = builder
                .build()
                .map_err(|e| format!("media store {spec}: {e}"))?;
            return Ok(Self {
                store: Arc::new(s3),
                part: S3_PART,
                background: false,
            });
        }
        let dir = spec.strip_prefix("file://").unwrap_or(spec);
        std::fs::create_dir_all(dir).map_err(|e| format!("media folder {dir}: {e}"))?;
        let local = object_store::local::LocalFileSystem::new_with_prefix(Path::new(dir))
            .map_err(|e| format!("media folder {dir}: {e}"))?
            // An acknowledged upload survives a power loss, as an acknowledged message does.
            .with_fsync(true)
            .with_automatic_cleanup(true);
        Ok(Self {
            store: Arc::new(local),
            part: LOCAL_PART,
            background: true,
        })
    }

    /// Writes `body` under `key`, refusing it past `limit` bytes. Each chunk is handed to the
    /// store under a permit of `turns`, so that uploads take turns at the CPU and the disk
    /// however many stream at once, while none holds a turn as it waits for its client.
    pub async fn put<E: std::fmt::Display>(
        &self,
        key: &str,
        mut body: impl Stream<Item = Result<Bytes, E>> + Unpin,
        limit: u64,
        turns: &tokio::sync::Semaphore,
    ) -> Result<Stored, PutError> {
        let path = ObjectPath::from(key);
        let mut upload = self
            .store
            .put_multipart(&path)
            .await
            .map_err(|e| PutError::Store(e.to_string()))?;
        if self.background {
            upload = Box::new(Background(upload));
        }
        let mut writer = Aborting(Some(WriteMultipart::new_with_chunk_size(upload, self.part)));
        let mut prefix = Vec::new();
        let mut size = 0u64;
        // Reading the body is most of an upload's work, so it is what takes turns: an upload
        // holds one while its bytes flow, and gives it back while it waits longer than
        // `SLOW_CLIENT` for its client.
        let mut turn = None;
        loop {
            if turn.is_none() {
                let Ok(taken) = turns.acquire().await else {
                    return Err(writer.abort(PutError::Store("shutting down".into())).await);
                };
                turn = Some(taken);
            }
            let next = match tokio::time::timeout(SLOW_CLIENT, body.next()).await {
                Ok(next) => next,
                Err(_) => {
                    turn = None;
                    body.next().await
                }
            };
            let chunk = match next {
                None => break,
                Some(Ok(chunk)) => chunk,
                Some(Err(e)) => return Err(writer.abort(PutError::Body(e.to_string())).await),
            };
            size += chunk.len() as u64;
            if size > limit {
                return Err(writer.abort(PutError::TooLarge).await);
            }
            if prefix.len() < SNIFF_BYTES {
                let take = chunk.len().min(SNIFF_BYTES - prefix.len());
                prefix.extend_from_slice(&chunk[..take]);
            }
            let parts = writer.0.as_mut().expect("present until finished");
            if let Err(e) = parts.wait_for_capacity(PARTS_IN_FLIGHT).await {
                return Err(writer.abort(PutError::Store(e.to_string())).await);
            }
            parts.put(chunk);
        }
        if size == 0 {
            return Err(writer.abort(PutError::Empty).await);
        }
        let parts = writer.0.take().expect("present until finished");
        parts
            .finish()
            .await
            .map_err(|e| PutError::Store(e.to_string()))?;
        Ok(Stored {
            size,
            sniffed: Sniffed::of(&prefix, size <= prefix.len() as u64),
        })
    }

    /// The bytes under `key`, as a stream, and their length.
    pub async fn get(
        &self,
        key: &str,
    ) -> Result<(BoxStream<'static, std::io::Result<Bytes>>, u64), String> {
        let found = self
            .store
            .get(&ObjectPath::from(key))
            .await
            .map_err(|e| e.to_string())?;
        let size = found.meta.size;
        let stream = match found.payload {
            GetResultPayload::File(file, _) => read_chunks(file, size),
            GetResultPayload::Stream(stream) => stream.map_err(std::io::Error::other).boxed(),
        };
        Ok((stream, size))
    }

    /// Removes the object under `key` (a finished upload that was then refused).
    pub async fn delete(&self, key: &str) {
        if let Err(e) = self.store.delete(&ObjectPath::from(key)).await {
            tracing::warn!(key, error = %e, "could not remove a refused upload");
        }
    }
}

/// `size` bytes of a local file, read [`LOCAL_READ`] at a time on blocking threads.
fn read_chunks(file: std::fs::File, size: u64) -> BoxStream<'static, std::io::Result<Bytes>> {
    futures_util::stream::try_unfold((file, size), |(mut file, left)| async move {
        if left == 0 {
            return Ok(None);
        }
        let chunk = usize::try_from(left).map_or(LOCAL_READ, |left| left.min(LOCAL_READ));
        let (file, bytes) = tokio::task::spawn_blocking(move || {
            let mut buffer = vec![0; chunk];
            std::io::Read::read_exact(&mut file, &mut buffer).map(|()| (file, buffer))
        })
        .await
        .map_err(std::io::Error::other)??;
        Ok(Some((Bytes::from(bytes), (file, left - chunk as u64))))
    })
    .boxed()
}

/// The threads that write uploaded parts to the local disk, at a lower CPU priority than the
/// threads that serve requests. Writing a part is the kernel's copy of its bytes into the page
/// cache, most of an upload's CPU; at the same priority, a few uploads took the cores from chat
/// requests (see BENCHMARKS.md, media). The threads carry no tokio context of the server's
/// runtime, so `object_store`'s blocking writes run on them rather than on the shared pool.
static BACKGROUND: std::sync::LazyLock<tokio::runtime::Runtime> = std::sync::LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(BACKGROUND_WRITERS)
        .thread_name("media-write")
        .on_thread_start(lower_priority)
        .build()
        .expect("the media write threads start")
});

/// Parts written at once by [`BACKGROUND`].
const BACKGROUND_WRITERS: usize = 8;
/// The write threads' niceness: a thread at 10 gets about a tenth of a core beside one at 0
/// that wants it, and all of an idle one.
const BACKGROUND_NICE: i32 = 10;

/// Lowers the calling thread's CPU priority (on Linux, niceness is per thread). Failing is
/// harmless: the writes then compete at the same priority, as before.
fn lower_priority() {
    if let Err(e) = rustix::process::setpriority_process(None, BACKGROUND_NICE) {
        tracing::debug!(error = %e, "media write threads keep their priority");
    }
}

/// A multipart upload whose parts are written on [`BACKGROUND`]'s threads.
#[derive(Debug)]
struct Background(Box<dyn object_store::MultipartUpload>);

#[async_trait::async_trait]
impl object_store::MultipartUpload for Background {
    fn put_part(&mut self, data: object_store::PutPayload) -> object_store::UploadPart {
        let part = BACKGROUND.spawn(self.0.put_part(data));
        Box::pin(async move {
            part.await.map_err(|e| object_store::Error::Generic {
                store: "media",
                source: Box::new(e),
            })?
        })
    }

    async fn complete(&mut self) -> object_store::Result<object_store::PutResult> {
        self.0.complete().await
    }

    async fn abort(&mut self) -> object_store::Result<()> {
        self.0.abort().await
    }
}

/// An upload in progress that aborts itself if dropped unfinished (the client went away and
/// the request was dropped with it), so no part of it is left behind.
struct Aborting(Option<WriteMultipart>);

impl Aborting {
    /// Aborts now and returns `why`.
    async fn abort(&mut self, why: PutError) -> PutError {
        if let Some(parts) = self.0.take()
            && let Err(e) = parts.abort().await
        {
            tracing::warn!(error = %e, "could not abort an upload");
        }
        why
    }
}

impl Drop for Aborting {
    fn drop(&mut self) {
        if let Some(parts) = self.0.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                let _ = parts.abort().await;
            });
        }
    }
}
