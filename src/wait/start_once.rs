//! Start an operation once, then follow it to its end: the one piece behind the swap, the
//! backup and the restore.
//!
//! Per instance: send the start; while its answer proves that nothing started (429, no
//! connection, a busy instance) send it again, on the retry backoff or, for a busy instance,
//! on the schedule's patience; once it started, follow what it started as a job, with the
//! very loop of a plain wait. An answer that proves nothing (a timeout, a dropped connection,
//! a 5xx, an unreadable 200) is never followed by another start: the operation's own evidence
//! (a task, a record) says whether it started, and is then followed to its end; with none
//! within [`START_GRACE`], the report says that it is unknown whether it started.
//!
//! An operation supplies only what is its own ([`Operation`]): the request, how to read what
//! it started, and how to recognise its own evidence after an ambiguous answer.

use super::engine::{later, no_answer, Clock, Kind, Look, Reads};
use super::error::WaitError;
use super::job::Followed;
use super::observer;
use super::options::WaitOptions;
use super::ready::Ready;
use super::report::{JobReport, Outcome, Subject};
use super::swap::{InstanceSource, OnInstance};
use super::NARRATION;
use crate::api::{ApiError, ErrorKind, InstanceId, Job, PollError, Start};
use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// How long after an inconclusive start its evidence (a task, a record) may take to appear
/// (never past the deadline).
pub const START_GRACE: Duration = Duration::from_secs(30);

/// How far before our start a task or record may have been created by the server's clock and
/// still be ours: the `Date` of an answer counts whole seconds, and the start took a round
/// trip.
const CREATED_MARGIN: Duration = Duration::from_secs(2);

/// What one read of what an operation started gives: it, as a job, what else the report
/// wants of it, and how many requests the read took (a list may take several pages).
pub(super) struct Seen<E> {
    pub(super) job: Job,
    pub(super) extra: E,
    pub(super) requests: u32,
}

/// An operation's own evidence, found after an ambiguous start: what tells it from others
/// (`key`), what it is known by when the evidence says (`id`), and what it says now.
pub(super) struct Found<Id, E> {
    pub(super) key: String,
    pub(super) id: Option<Id>,
    pub(super) seen: Seen<E>,
}

/// A look for an operation's own evidence: found, not (yet), or the read failed.
pub(super) type OwnFound<Id, E> = Result<Option<Found<Id, E>>, PollError>;

/// What one kind of start-once operation supplies: see the module's documentation.
pub(super) trait Operation<S>: Send + Sync + 'static {
    /// What a started one is known by: a job id, a backup id, a restore id.
    type Id: Clone + Display + Send + Sync + 'static;
    /// What else a read tells that the report wants (a backup's size), kept from the last.
    type Extra: Default + Send + Sync + 'static;
    /// Its name in messages: `swap`, `backup`, `restore`.
    const NAME: &'static str;
    /// What its id is called in messages: `job`, `backup`, `restore`.
    const ID_NAME: &'static str;
    /// What a start sends (a backup's format and remark, the backup a restore is from): held
    /// by the starting phase only, so that one followed by its id has nothing to start.
    type Request: Send + Sync + 'static;
    /// What a wait on it is about, on an instance.
    const SUBJECT: fn(InstanceId) -> Subject;

    /// One start.
    fn start<'a>(
        &'a self,
        source: &'a S,
        instance_id: &'a InstanceId,
        request: &'a Self::Request,
    ) -> impl Future<Output = Start<Self::Id>> + Send + 'a;

    /// One read of the started one; "not found" while it does not show yet.
    fn follow<'a>(
        &'a self,
        source: &'a S,
        instance_id: &'a InstanceId,
        id: &'a Self::Id,
    ) -> impl Future<Output = Result<Seen<Self::Extra>, PollError>> + Send + 'a;

    /// One look for its own evidence after an ambiguous start: the one `search` found
    /// before, or one that only this start can have made.
    fn find_own<'a>(
        &'a self,
        source: &'a S,
        instance_id: &'a InstanceId,
        search: &'a Search,
    ) -> impl Future<Output = OwnFound<Self::Id, Self::Extra>> + Send + 'a;

    /// What its evidence is, in words: `a masterStandbySwapJob task created since the start`.
    fn evidence(&self) -> String;

    /// What to look at before starting it again by hand, when it is unknown whether it
    /// started.
    fn check_before_retrying(&self) -> String;

    /// Whether, once it has succeeded, the instance must be ready again too (a restore).
    fn then_ready(&self) -> bool {
        false
    }

    /// Fills in what the report says of it: its id, whether this run started it, `extra`.
    fn report(
        &self,
        report: &mut JobReport,
        id: Option<&Self::Id>,
        started: bool,
        extra: &Self::Extra,
    );
}

/// One operation on one instance: started at most once, then followed to its end.
pub(super) struct StartOnce<S, O: Operation<S>> {
    on: OnInstance<S>,
    op: O,
    phase: Phase<S, O::Id, O::Request>,
    /// Whether this run started it (not so for one followed by its id).
    started: bool,
    extra: O::Extra,
}

enum Phase<S, Id, R> {
    /// No start has been proved yet.
    Starting(Starting<R>),
    /// It started as this, which is followed.
    Following { id: Id, followed: Followed },
    /// An answer proved nothing: its evidence is looked for, and followed once found.
    FindingOut { search: Search, followed: Followed },
    /// It succeeded; the instance is waited for until it is ready again.
    Readying {
        id: Option<Id>,
        followed: Followed,
        ready: Box<Ready<S>>,
    },
}

impl<S: InstanceSource, O: Operation<S>> StartOnce<S, O> {
    /// `op` on `instance_id`, to be started with `request`.
    pub(super) fn new(
        source: &Arc<S>,
        op: O,
        instance_id: &InstanceId,
        request: O::Request,
    ) -> Self {
        StartOnce::in_phase(
            source,
            op,
            instance_id,
            Phase::Starting(Starting::new(request)),
        )
    }

    /// `op`'s `id` on `instance_id`, started already (by a person, a schedule, another
    /// tool): only followed, nothing is sent that changes anything.
    pub(super) fn following(source: &Arc<S>, op: O, instance_id: &InstanceId, id: O::Id) -> Self {
        let followed = Followed::since(Instant::now());
        StartOnce::in_phase(source, op, instance_id, Phase::Following { id, followed })
    }

    fn in_phase(
        source: &Arc<S>,
        op: O,
        instance_id: &InstanceId,
        phase: Phase<S, O::Id, O::Request>,
    ) -> Self {
        StartOnce {
            on: OnInstance::new(source, instance_id, O::SUBJECT),
            op,
            phase,
            started: false,
            extra: O::Extra::default(),
        }
    }

    /// What a read concluded, and the instance's readiness next when the operation wants it.
    fn concluded(&mut self, look: Look) -> Look {
        let ready_next = matches!(look, Look::End(Outcome::Success, _)) && self.op.then_ready();
        if !ready_next {
            return look;
        }
        // What was followed goes on into the next phase, which replaces this one.
        let (id, followed) = match &mut self.phase {
            Phase::Following { id, followed } => (Some(id.clone()), followed),
            Phase::FindingOut { followed, .. } => (None, followed),
            _ => return look,
        };
        let followed = std::mem::replace(followed, Followed::since(Instant::now()));
        tracing::info!(
            "{}: the {} succeeded; waiting for the instance to be ready",
            self.on.id,
            O::NAME
        );
        let ready = Box::new(Ready::new(&self.on.source, &self.on.id));
        self.phase = Phase::Readying {
            id,
            followed,
            ready,
        };
        Look::again(Duration::ZERO)
    }
}

/// The starts so far, and what each sends.
struct Starting<R> {
    request: R,
    /// When the first start went.
    first_try: Option<Instant>,
    /// The busy code last logged, so that a busy instance is said once per reason.
    busy_with: Option<Option<String>>,
    /// Whether a start is on its way, its answer not yet read.
    sending: bool,
}

/// What one start led to.
enum Started<Id> {
    /// Nothing started: what to do about it.
    No(Look),
    /// It started as this, sent at that time.
    Yes(Id, Instant),
    /// It may have started.
    Maybe(Search),
}

impl<R> Starting<R> {
    fn new(request: R) -> Starting<R> {
        Starting {
            request,
            first_try: None,
            busy_with: None,
            sending: false,
        }
    }

    /// One start, and what its answer proves.
    async fn start<S: InstanceSource, O: Operation<S, Request = R>>(
        &mut self,
        op: &O,
        source: &S,
        instance_id: &InstanceId,
        reads: &mut Reads<'_>,
    ) -> Result<Started<O::Id>, Outcome> {
        let name = O::NAME;
        let server_before = source.server_now();
        let (sending, request) = (&mut self.sending, &self.request);
        let start = move || async move {
            *sending = true;
            op.start(source, instance_id, request).await
        };
        let sent_at = Instant::now();
        let answer = reads.send(start).await?;
        self.sending = false;
        let first_try = *self.first_try.get_or_insert(sent_at);
        let (answer, sent_at) = match answer {
            Some(answered) => answered,
            // No answer in time is as inconclusive as a dropped connection: the start went
            // out.
            None => (Start::Ambiguous(no_answer(sent_at)), sent_at),
        };
        Ok(match answer {
            Start::Started(id) => {
                tracing::info!("{name} started on {instance_id}: {} {id}", O::ID_NAME);
                Started::Yes(id, sent_at)
            }
            Start::NotStarted { error, retry_after } => {
                Started::No(Look::Failed(PollError::Transient { error, retry_after }))
            }
            Start::Busy(error) => {
                let delay = reads.scheduled(None, first_try, None);
                if self.busy_with.as_ref() != Some(&error.code) {
                    tracing::warn!(
                        target: NARRATION,
                        "{instance_id}: busy, the {name} did not start ({error}); sending it \
                         again when the instance is free, next in {delay:.1?}"
                    );
                    self.busy_with = Some(error.code.clone());
                }
                Started::No(Look::Again {
                    delay,
                    kept: Some(error),
                })
            }
            Start::Refused(error) => Started::No(Look::Failed(PollError::Final(error))),
            Start::Ambiguous(error) => {
                tracing::warn!(
                    "{instance_id}: the answer to the {name} proves nothing ({}): it may \
                     have started. Not sending it again; looking for {}",
                    error.with_causes(),
                    op.evidence()
                );
                Started::Maybe(Search::new(error, server_before, sent_at))
            }
        })
    }
}

impl<S: InstanceSource, O: Operation<S>> Kind for StartOnce<S, O> {
    fn subject(&self) -> &Subject {
        &self.on.subject
    }

    async fn look(&mut self, reads: &mut Reads<'_>) -> Result<Look, Outcome> {
        let (source, op, id) = (&*self.on.source, &self.op, &self.on.id);
        let name = self.on.subject.name();
        let look = match &mut self.phase {
            Phase::Starting(starting) => {
                return Ok(match starting.start(op, source, id, reads).await? {
                    Started::No(look) => look,
                    Started::Yes(started, sent_at) => {
                        // What started is as old as the start, not as the run: its age plans
                        // the polls, and its "not found" grace counts from then. It is read
                        // at once.
                        self.started = true;
                        let followed = Followed::since(sent_at);
                        self.phase = Phase::Following {
                            id: started,
                            followed,
                        };
                        Look::again(Duration::ZERO)
                    }
                    Started::Maybe(search) => {
                        let followed = Followed::since(reads.clock().start);
                        self.phase = Phase::FindingOut { search, followed };
                        Look::again(Duration::ZERO)
                    }
                });
            }
            Phase::Following {
                id: started,
                followed,
            } => {
                let answer = reads.read(|| op.follow(source, id, started)).await?;
                let job = match answer {
                    Ok(seen) => {
                        reads.paid_for(seen.requests.saturating_sub(1)).await?;
                        self.extra = seen.extra;
                        Ok(seen.job)
                    }
                    Err(failure) => Err(failure),
                };
                followed.conclude(name, job, reads)
            }
            Phase::FindingOut { search, followed } => {
                let answer = reads.read(|| op.find_own(source, id, search)).await?;
                let job = match answer {
                    Ok(Some(found)) => {
                        if search.found.is_none() {
                            tracing::info!(
                                "{id}: the {} started: {} ({}) appeared after the start",
                                O::NAME,
                                op.evidence(),
                                found.key
                            );
                            search.found = Some(found.key);
                        }
                        self.started = true;
                        reads
                            .paid_for(found.seen.requests.saturating_sub(1))
                            .await?;
                        self.extra = found.seen.extra;
                        match found.id {
                            // Known by its id from now on: followed as one started plainly.
                            Some(started) => {
                                let mut followed =
                                    std::mem::replace(followed, Followed::since(search.began));
                                let look = followed.conclude(name, Ok(found.seen.job), reads);
                                self.phase = Phase::Following {
                                    id: started,
                                    followed,
                                };
                                return Ok(self.concluded(look));
                            }
                            None => Ok(found.seen.job),
                        }
                    }
                    // Not found yet: the driver rides it out until the start's grace is over.
                    Ok(None) => Err(PollError::NotFound(ApiError::new(
                        ErrorKind::NotFound,
                        search.lost(op, id),
                    ))),
                    Err(failure) => Err(failure),
                };
                followed.conclude(name, job, reads)
            }
            Phase::Readying { ready, .. } => return ready.look(reads).await,
        };
        Ok(self.concluded(look))
    }

    fn seen(&self) -> observer::Seen<'_> {
        match &self.phase {
            Phase::Starting(_) => observer::Seen::default(),
            Phase::Following { followed, .. } | Phase::FindingOut { followed, .. } => {
                followed.seen()
            }
            // The instance's status (RESTORING), since the operation began.
            Phase::Readying {
                ready, followed, ..
            } => observer::Seen::new(ready.status(), followed.seen().begin_time),
        }
    }

    fn not_found_until(&self, options: &WaitOptions, clock: Clock) -> Instant {
        match &self.phase {
            Phase::Starting(_) => later(clock.start, options.not_found_grace),
            Phase::Following { followed, .. } | Phase::Readying { followed, .. } => {
                later(followed.since, options.not_found_grace)
            }
            Phase::FindingOut { search, .. } => later(search.began, START_GRACE),
        }
    }

    fn starts(&self) -> bool {
        matches!(self.phase, Phase::Starting(_))
    }

    fn report(self, outcome: Outcome, polls: u32, error: Option<WaitError>) -> JobReport {
        let StartOnce {
            on:
                OnInstance {
                    subject,
                    id: instance_id,
                    ..
                },
            op,
            phase,
            started,
            extra,
        } = self;
        let (mut report, id) = match phase {
            Phase::Starting(starting) => {
                // The start may be on its way: say so rather than pretend nothing happened.
                let error = match (outcome, starting.sending) {
                    (Outcome::Interrupted, true) => Some(WaitError::StartUnknown(unknown(
                        &op,
                        &instance_id,
                        "the wait was interrupted while the start was on its way",
                    ))),
                    _ => error,
                };
                (JobReport::new(&subject, outcome, None, polls, error), None)
            }
            Phase::Following { id, followed } => {
                (followed.report(&subject, outcome, polls, error), Some(id))
            }
            // No evidence after the grace (the driver ends with the "not found" the last
            // look gave), or none by the deadline: unknown, not merely unfinished.
            Phase::FindingOut { search, followed } => {
                let lost = search.lost(&op, &instance_id);
                let no_evidence = followed.last.is_none()
                    && match (outcome, &error) {
                        (Outcome::Timeout, _) => true,
                        (Outcome::Error, Some(WaitError::Request(e))) => e.message == lost,
                        _ => false,
                    };
                let report = if no_evidence {
                    let error = Some(WaitError::StartUnknown(lost));
                    followed.report(&subject, Outcome::Error, polls, error)
                } else {
                    followed.report(&subject, outcome, polls, error)
                };
                (report, None)
            }
            Phase::Readying {
                id,
                followed,
                ready,
            } => {
                let mut report = followed.report(&subject, outcome, polls, error);
                if let Some(why) = ready.fail_reason() {
                    report.fail_reason = Some(format!("the {} succeeded, but {why}", O::NAME));
                }
                (report, id)
            }
        };
        op.report(&mut report, id.as_ref(), started, &extra);
        report
    }
}

/// The search for an operation's own evidence after a start whose answer proved nothing.
pub(super) struct Search {
    /// Why it is unknown whether the operation started.
    why: ApiError,
    /// Lists are asked for a minute around the start (our clock may be off the server's);
    /// which entry is ours is then decided on the server's own clock, from its `Date`.
    pub(super) asked_since: SystemTime,
    server_before: SystemTime,
    sent_at: Instant,
    /// When the search began: the evidence has [`START_GRACE`] from then to appear.
    began: Instant,
    /// The evidence found, by its key.
    pub(super) found: Option<String>,
}

/// Milliseconds since the epoch, as the API's time stamps are (negative before it).
pub(super) fn epoch_ms(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

impl Search {
    fn new(why: ApiError, server_before: SystemTime, sent_at: Instant) -> Search {
        Search {
            why,
            asked_since: server_before
                .checked_sub(Duration::from_secs(60))
                .unwrap_or(server_before),
            server_before,
            sent_at,
            began: Instant::now(),
            found: None,
        }
    }

    /// The earliest creation time (server clock, epoch ms) of anything this start made,
    /// judged from a list answered at `answered_at` (its `Date`).
    pub(super) fn created_since(&self, answered_at: Option<i64>) -> i64 {
        answered_at.map_or(epoch_ms(self.server_before), |answered| {
            answered - (self.sent_at.elapsed() + CREATED_MARGIN).as_millis() as i64
        })
    }

    /// Whether an entry keyed `key` and created at `created` is ours: the one found before,
    /// or, none found yet, one that `matches` what only ours can be and was created since the
    /// start.
    pub(super) fn is_ours(
        &self,
        key: &str,
        created: Option<i64>,
        answered_at: Option<i64>,
        matches: bool,
    ) -> bool {
        match &self.found {
            Some(found) => found == key,
            None => {
                let since = self.created_since(answered_at);
                matches && created.is_some_and(|at| at >= since)
            }
        }
    }

    /// What is said when no evidence has appeared.
    fn lost<S, O: Operation<S>>(&self, op: &O, instance_id: &InstanceId) -> String {
        unknown(
            op,
            instance_id,
            &format!(
                "the answer to the start was inconclusive ({}), and no {} has appeared",
                self.why.with_causes(),
                op.evidence()
            ),
        )
    }
}

/// What is said of an operation that may or may not have started.
fn unknown<S, O: Operation<S>>(op: &O, instance_id: &InstanceId, why: &str) -> String {
    format!(
        "{why}: it is unknown whether the {} of {instance_id} started. Before starting it \
         again, look at {}",
        O::NAME,
        op.check_before_retrying()
    )
}
