//! `InitializeRunLogging`: connect (retrying until `init_timeout_secs`), create or resume the
//! run, check that this job owns it, and hand the run's cursors to the runtime.

use std::time::{Duration, Instant};

use telemetron_proto::metrana::ingestion::v1::svc::{
    ingest_service_client::IngestServiceClient, initialize_run_logging_response::Msg,
    InitializeRunLoggingRequest, ResumePolicy,
};
use telemetron_proto::metrana::ingestion::v1::types::{OrderingMode, Run};
use telemetron_runtime::model::{Scale, SeriesKey, SeriesOrdering};
use telemetron_runtime::{CursorSeed, CursorSeeds, ExportError, RunIdentity};
use tonic::transport::Channel;

use crate::config::{MetranaConfig, ResumeStrategy};
use crate::resume::StoredSteps;
use crate::transport::{authorize, endpoint, status_error};

/// What the handshake gives the stream.
pub(crate) struct Initialized {
    pub channel: Channel,
    pub run_id: Vec<u8>,
    /// The last step of each ordered series the run has.
    pub stored: StoredSteps,
}

/// Connects and initializes the run, within `init_timeout_secs` in all. Connection failures
/// are retried with backoff until then; the server's refusals are not.
pub(crate) fn initialize_run(
    runtime: &tokio::runtime::Runtime,
    config: &MetranaConfig,
    token: Option<&str>,
    run: &RunIdentity,
    seeds: &CursorSeeds,
) -> Result<Initialized, ExportError> {
    let (Some(workspace), Some(project)) = (&run.workspace, &run.project) else {
        return Err(ExportError::failed(
            "the metrana exporter needs the workspace and project settings",
        ));
    };
    let request = InitializeRunLoggingRequest {
        run: Some(Run {
            workspace: workspace.clone(),
            project: project.clone(),
            run_name: run.run_name.clone(),
            experiment: run.experiment.clone(),
            orchestration_identifier: Some(run.orchestration_id.clone()),
            ..Default::default()
        }),
        create_project_if_missing: config.create_project_if_missing,
        logger_id: run.logger_id,
        resume_policy: match config.resume_strategy {
            ResumeStrategy::Never => ResumePolicy::Never,
            ResumeStrategy::Allow => ResumePolicy::Allow,
        } as i32,
        ..Default::default()
    };
    let timeout = Duration::from_secs_f64(config.init_timeout_secs.max(0.001));
    let deadline = Instant::now() + timeout;
    let endpoint = endpoint(config, timeout)?;
    let mut backoff = Duration::from_millis(100);
    let (channel, messages) = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let attempt = runtime.block_on(async {
            tokio::time::timeout(left, async {
                let channel = endpoint.connect().await.map_err(|e| {
                    ExportError::retryable(format!(
                        "cannot reach Metrana at {}: {}",
                        telemetron_runtime::redact::redact_text(&config.endpoint),
                        telemetron_runtime::exporter::error_chain(&e)
                    ))
                })?;
                let mut client = IngestServiceClient::new(channel.clone());
                let mut stream = client
                    .initialize_run_logging(authorize(request.clone(), token)?)
                    .await
                    .map_err(|s| status_error("InitializeRunLogging", &s))?
                    .into_inner();
                let mut messages = Vec::new();
                while let Some(m) = stream
                    .message()
                    .await
                    .map_err(|s| status_error("InitializeRunLogging", &s))?
                {
                    messages.extend(m.msg);
                }
                Ok::<_, ExportError>((channel, messages))
            })
            .await
            .unwrap_or_else(|_| Err(ExportError::retryable("the handshake did not finish")))
        });
        match attempt {
            Ok(done) => break done,
            Err(e) if e.is_retryable() && Instant::now() + backoff < deadline => {
                tracing::debug!(target: "telemetron", "metrana handshake: {e}; retrying");
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(2));
            }
            Err(e) if e.is_retryable() => {
                return Err(ExportError::failed(format!(
                    "Metrana at {} did not initialize the run within init_timeout_secs \
                     ({timeout:?}): {e}",
                    config.endpoint
                )))
            }
            Err(e) => return Err(e),
        }
    };
    let mut initialized = None;
    let mut stored = StoredSteps::default();
    for message in messages {
        match message {
            Msg::InitializedRun(r) => initialized = Some(r),
            Msg::LastLoggedSteps(steps) => {
                for s in steps.series {
                    match series_seed(&s.metric_name, &s.scale, &s.flat_labels, s.ordering) {
                        Some((key, ordering)) => {
                            if ordering == SeriesOrdering::Ordered {
                                stored.insert(key.clone(), s.last_step);
                            }
                            seeds.seed(CursorSeed::LastStep {
                                key,
                                ordering,
                                last_step: s.last_step,
                            })
                        }
                        None => tracing::warn!(
                            target: "telemetron",
                            "metrana handshake: series {:?} ({}, {:?}) has no cursor this \
                             client can read; its steps restart",
                            s.metric_name, s.scale, s.flat_labels
                        ),
                    }
                }
            }
            Msg::EnvStatuses(envs) => {
                for e in envs.envs {
                    seeds.seed(CursorSeed::Env {
                        env: e.env_name,
                        last_rl_step: e.last_rl_step,
                        last_episode: Some(e.last_episode),
                    });
                }
            }
            // Pins of RL families are checked by the server; the client pins them on first use.
            Msg::RlFamilyDeclarations(_) => {}
        }
    }
    let initialized =
        initialized.ok_or_else(|| ExportError::failed("the handshake returned no run"))?;
    if !initialized.created && config.resume_strategy == ResumeStrategy::Never {
        check_ownership(run, initialized.orchestration_identifier.as_deref())?;
    }
    Ok(Initialized {
        channel,
        run_id: initialized.run_id,
        stored,
    })
}

/// Under `never`, an existing run must carry this job's orchestration id.
fn check_ownership(run: &RunIdentity, theirs: Option<&str>) -> Result<(), ExportError> {
    match theirs {
        None => Err(ExportError::failed(format!(
            "RunAlreadyExists: run {} cannot be confirmed to belong to this job (it has no \
             orchestration id); resume_strategy: allow continues into it",
            run.run_name
        ))),
        Some(theirs) if theirs != run.orchestration_id => Err(ExportError::failed(format!(
            "OrchestrationIdMismatch: run {} belongs to job {theirs}, this job is {}; \
             resume_strategy: allow continues into it",
            run.run_name, run.orchestration_id
        ))),
        Some(_) => Ok(()),
    }
}

/// A series of the handshake as a runtime key. `flat_labels` is Metrana's form of a label map:
/// `k=v` pairs sorted by key, joined by `&`, unescaped (`=` and `&` are reserved in labels).
/// Found by resuming metrana-logging-engine 0.12 against the reference server: it reads this
/// form and no other tried (`,` `;` `|` separators, JSON, percent-encoding).
fn series_seed(
    name: &str,
    scale: &str,
    flat_labels: &str,
    ordering: i32,
) -> Option<(SeriesKey, SeriesOrdering)> {
    let ordering = match OrderingMode::try_from(ordering).ok()? {
        OrderingMode::AbsoluteOrdered => SeriesOrdering::Ordered,
        OrderingMode::AbsoluteUnordered => SeriesOrdering::Unordered,
        _ => return None,
    };
    let labels = flat_labels
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            pair.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect::<Option<Vec<_>>>()?;
    let key = SeriesKey::new(name, Scale::parse(scale).ok()?, labels).ok()?;
    Some((key, ordering))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_labels_become_a_key() {
        let (key, ordering) = series_seed(
            "loss",
            "ML_STEP",
            "a=1&split=train",
            OrderingMode::AbsoluteUnordered as i32,
        )
        .expect("a key");
        assert_eq!(key.name(), "loss");
        assert_eq!(
            key.labels(),
            &[("a".into(), "1".into()), ("split".into(), "train".into())][..]
        );
        assert_eq!(ordering, SeriesOrdering::Unordered);
        let ordered = OrderingMode::AbsoluteOrdered as i32;
        assert!(series_seed("loss", "ML_STEP", "", ordered).is_some());
        assert!(series_seed("loss", "ML_STEP", "novalue", ordered).is_none());
        // Not Metrana's separator: "1,b=2" would be a value holding a reserved '='.
        assert!(series_seed("loss", "ML_STEP", "a=1,b=2", ordered).is_none());
        assert!(series_seed("loss", "FURLONGS", "", ordered).is_none());
        let relative = OrderingMode::RelativeOrdered as i32;
        assert!(series_seed("loss", "ML_STEP", "", relative).is_none());
    }
}
