//! Group commit of attestations on SQLite.
//!
//! SQLite has one writer: attestations stored one transaction each wait for one another
//! and each pays a transaction's fixed cost (taking the write lock, appending the pages
//! it touched to the log). Attestations that arrive while a transaction is being written
//! wait in a queue; the next writer takes every one queued and writes them in one
//! transaction, each inside its own savepoint, so one that fails fails only its own
//! request. Nobody waits for a batch to fill: a lone attestation is written at once.
//! Each request is answered only after the transaction holding it has committed.
//!
//! The batch is written by a spawned task, not by the request that took the writer's
//! place: a request dropped halfway (a client that hangs up) cannot abandon the others'
//! attestations with it.

use crate::evidence::{IngestOutcome, NewAttestation};
use crate::ingest::Ingested;
use crate::{Store, StoreError};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::oneshot;

/// Attestations per transaction at most: bounds the work a failed commit redoes.
const MAX_BATCH: usize = 128;

struct Job {
    org_id: i64,
    attestation: NewAttestation,
    now_ms: i64,
    reply: oneshot::Sender<Result<IngestOutcome, StoreError>>,
}

#[derive(Default)]
pub(crate) struct IngestQueue {
    pending: std::sync::Mutex<Vec<Job>>,
    /// Held by the task writing a batch.
    writer: Arc<tokio::sync::Mutex<()>>,
    transactions: AtomicU64,
    attestations: AtomicU64,
}

/// How ingestion grouped what it stored since the server started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngestStats {
    pub transactions: u64,
    pub attestations: u64,
}

impl Store {
    /// What ingestion has written so far, and in how many transactions.
    pub fn ingest_stats(&self) -> IngestStats {
        IngestStats {
            transactions: self.queue.transactions.load(Ordering::Relaxed),
            attestations: self.queue.attestations.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn count_ingested(&self, transactions: u64, attestations: u64) {
        self.queue
            .transactions
            .fetch_add(transactions, Ordering::Relaxed);
        self.queue
            .attestations
            .fetch_add(attestations, Ordering::Relaxed);
    }

    pub(crate) async fn ingest_grouped(
        &self,
        org_id: i64,
        a: &NewAttestation,
        now_ms: i64,
    ) -> Result<IngestOutcome, StoreError> {
        let (reply, mut answer) = oneshot::channel();
        self.queue.pending.lock().expect("ingest queue").push(Job {
            org_id,
            attestation: a.clone(),
            now_ms,
            reply,
        });
        let writer = Arc::clone(&self.queue.writer).lock_owned().await;
        // The writer before may have taken this attestation with its batch; it answers
        // before it lets go.
        if let Ok(result) = answer.try_recv() {
            return result;
        }
        let jobs = {
            let mut pending = self.queue.pending.lock().expect("ingest queue");
            let take = pending.len().min(MAX_BATCH);
            pending.drain(..take).collect::<Vec<_>>()
        };
        let store = self.clone();
        tokio::spawn(async move {
            store.write_batch(jobs).await;
            drop(writer);
        });
        match answer.await {
            Ok(result) => result,
            // Only a panic in the batch task drops an answer; another attempt is safe
            // (ingestion is idempotent by digest).
            Err(_) => self.ingest_alone(org_id, a, now_ms).await,
        }
    }

    async fn write_batch(&self, mut jobs: Vec<Job>) {
        // What is not in this batch (a queue longer than a batch) waits for the next
        // writer, which is the request whose job it is.
        match self.try_batch(&jobs).await {
            Ok(done) => {
                let stored = done.iter().filter(|r| r.is_ok()).count();
                self.count_ingested(1, stored as u64);
                for (job, result) in jobs.drain(..).zip(done) {
                    let _ = job.reply.send(result.map(|i| self.remember(i)));
                }
            }
            // The transaction itself failed (the write lock not had in time, the disk):
            // each attestation again on its own, so each request gets its own answer.
            Err(_) => {
                for job in jobs {
                    let result = self
                        .ingest_alone(job.org_id, &job.attestation, job.now_ms)
                        .await;
                    if result.is_ok() {
                        self.count_ingested(1, 1);
                    }
                    let _ = job.reply.send(result);
                }
            }
        }
    }

    /// Writes the jobs in one transaction, each in a savepoint; the per-job results once
    /// it has committed.
    async fn try_batch(
        &self,
        jobs: &[Job],
    ) -> Result<Vec<Result<Ingested, StoreError>>, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut results = Vec::with_capacity(jobs.len());
        for job in jobs {
            sqlx::query("SAVEPOINT attestation")
                .execute(&mut *tx)
                .await?;
            match self
                .ingest_in(&mut tx, job.org_id, &job.attestation, job.now_ms)
                .await
            {
                Ok(ingested) => {
                    sqlx::query("RELEASE attestation").execute(&mut *tx).await?;
                    results.push(Ok(ingested));
                }
                Err(e) => {
                    sqlx::query("ROLLBACK TO attestation")
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("RELEASE attestation").execute(&mut *tx).await?;
                    results.push(Err(e));
                }
            }
        }
        tx.commit().await?;
        Ok(results)
    }
}
