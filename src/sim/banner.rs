//! What dcs-sim says when it starts: how to point dcs-wait at it, and a command for each
//! scripted job and instance, so that a newcomer needs nothing else to try it.

use super::Scenario;
use crate::api::auth::credentials::{ENV_AK, ENV_AUTH_TOKEN, ENV_SECURITY_TOKEN, ENV_SK};
use crate::api::{ENV_CA_BUNDLE, ENV_ENDPOINT, ENV_PROJECT_ID};
use std::fmt::Write as _;
use std::path::Path;

impl Scenario {
    /// The lines after dcs-sim's first (`dcs-sim listening on URL`, which scripts read): the
    /// settings to copy — the scenario's own test credentials, not secrets — and one ready
    /// command for each job and instance. `ca_bundle` is the certificate file of
    /// `--tls-cert-out`.
    pub fn banner(&self, url: &str, ca_bundle: Option<&Path>) -> String {
        let scenario = self;
        let auth = &scenario.auth;
        let mut out =
            String::from("\nIn another terminal (the test credentials of this scenario):\n\n");
        // The names dcs-wait reads, from where it reads them.
        let mut settings = vec![
            format!("{ENV_AK}={}", auth.access_key),
            format!("{ENV_SK}={}", auth.secret_key),
        ];
        if let Some(token) = &auth.security_token {
            settings.push(format!("{ENV_SECURITY_TOKEN}={token}"));
        }
        if let Some(project) = &scenario.project_id {
            settings.push(format!("{ENV_PROJECT_ID}={project}"));
        }
        settings.push(format!("{ENV_ENDPOINT}={url}"));
        if let Some(path) = ca_bundle {
            settings.push(format!("{ENV_CA_BUNDLE}={}", path.display()));
        }
        let _ = writeln!(out, "  export {}", settings.join(" \\\n         "));
        out.push('\n');
        let mut commands: Vec<(String, String)> = Vec::new();
        // Faults scripted on purpose are said with their command: the first WARN of a run is
        // then what the scenario promised, not a broken set-up.
        let scripted = |faults: Vec<String>| match faults.is_empty() {
            true => String::new(),
            false => format!("; on purpose: {}", faults.join(", ")),
        };
        for job in &scenario.jobs {
            let ends = (job.start_delay_ms + job.run_ms) as f64 / 1000.0;
            let faults = scripted(job.faults.iter().map(ToString::to_string).collect());
            commands.push((
                format!("dcs-wait {}", job.job_id),
                format!(
                    "{}, {} after {ends:.1} s{faults}",
                    job.job_type, job.final_status
                ),
            ));
        }
        for instance in &scenario.instances {
            let id = &instance.instance_id;
            let faults = scripted(
                instance
                    .start_faults
                    .iter()
                    .map(|f| f.rule.to_string())
                    .collect(),
            );
            commands.push((
                format!("dcs-wait swap {id}"),
                format!(
                    "swap, {} after {:.1} s{faults}",
                    instance.swap_final_status,
                    instance.swap_run_ms as f64 / 1000.0
                ),
            ));
            // Ready once its last status span and its last task are over.
            let busy_ms = instance
                .timeline
                .iter()
                .map(|span| span.until_ms as i64)
                .chain(instance.tasks.iter().map(|t| t.start_ms + t.run_ms as i64))
                .max()
                .unwrap_or(0);
            let ready = match (instance.timeline.first(), busy_ms) {
                (Some(first), ms) if ms > 0 => format!(
                    "{}, then ready after {:.1} s: RUNNING, no task in progress",
                    first.status,
                    ms as f64 / 1000.0
                ),
                _ => "ready: RUNNING, no task in progress".into(),
            };
            commands.push((format!("dcs-wait instance {id}"), ready));
            commands.push((
                format!("dcs-wait backup {id}"),
                format!(
                    "backup, {} after {:.1} s",
                    instance.backup.final_status,
                    (instance.backup.waiting_ms + instance.backup.run_ms) as f64 / 1000.0
                ),
            ));
            if let Some(good) = instance
                .backups
                .iter()
                .find(|b| b.final_status == "succeed")
            {
                commands.push((
                    format!("dcs-wait restore --from {} {id}", good.id),
                    format!(
                        "restore, {} after {:.1} s, then ready",
                        instance.restore.final_status,
                        (instance.restore.waiting_ms + instance.restore.run_ms) as f64 / 1000.0
                    ),
                ));
            }
        }
        // Aligned, but a command much longer than the rest does not push every comment away.
        let width = commands
            .iter()
            .map(|(c, _)| c.len())
            .filter(|len| *len <= 60)
            .max()
            .unwrap_or(0);
        for (command, what) in commands {
            let _ = writeln!(out, "  {command:<width$}  # {what}");
        }
        if auth.auth_token.is_some() {
            let _ = writeln!(
                out,
                "\nOr authenticate with its IAM token: {ENV_AUTH_TOKEN} (see --print-scenario)."
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_banner_holds_everything_to_copy() {
        let demo = Scenario::demo();
        let text = demo.banner("http://127.0.0.1:4000", None);
        for needed in [
            format!("HUAWEICLOUD_SDK_AK={}", demo.auth.access_key),
            format!("HUAWEICLOUD_SDK_SK={}", demo.auth.secret_key),
            format!(
                "HUAWEICLOUD_SDK_PROJECT_ID={}",
                demo.project_id.clone().unwrap()
            ),
            "DCS_WAIT_ENDPOINT=http://127.0.0.1:4000".into(),
        ] {
            assert!(text.contains(&needed), "{needed}\n{text}");
        }
        for job in &demo.jobs {
            assert!(
                text.contains(&format!("dcs-wait {} ", job.job_id)),
                "{text}"
            );
        }
        let id = &demo.instances[0].instance_id;
        assert!(text.contains(&format!("dcs-wait swap {id} ")), "{text}");
        // What the scenario scripts on purpose is said, so its WARN lines are expected.
        assert!(
            text.contains("on purpose: HTML 502 page on request 2"),
            "{text}"
        );
        assert!(text.contains("on purpose: HTTP 429 APIG.0308"), "{text}");
        assert!(
            text.contains("on purpose: HTTP 400 DCS.4049 on request 1"),
            "{text}"
        );
        assert!(text.contains(&format!("dcs-wait instance {id} ")), "{text}");
        let restored = &demo.instances[2];
        let (id, good) = (&restored.instance_id, &restored.backups[0].id);
        assert!(text.contains(&format!("dcs-wait backup {id} ")), "{text}");
        assert!(
            text.contains(&format!("dcs-wait restore --from {good} {id} ")),
            "{text}"
        );
        let tls = demo.banner("https://127.0.0.1:4000", Some(Path::new("/tmp/ca.pem")));
        assert!(tls.contains("SSL_CERT_FILE=/tmp/ca.pem"), "{tls}");
    }
}
