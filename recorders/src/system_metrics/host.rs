//! Host and process readings through `sysinfo`: CPU, memory, disk and network I/O rates.

use std::collections::HashSet;
use std::time::Instant;

use sysinfo::{
    CpuRefreshKind, DiskRefreshKind, Disks, MemoryRefreshKind, Networks, Pid, ProcessRefreshKind,
    ProcessesToUpdate, System,
};

use super::Reading;

/// Counters kept between samples (rates need the previous sample's time).
pub(crate) struct HostSampler {
    system: System,
    disks: Disks,
    networks: Networks,
    pid: Option<Pid>,
    last: Instant,
}

impl HostSampler {
    /// Takes the first counters; the first `sample` reports rates since now.
    pub(crate) fn new() -> Self {
        let mut system = System::new();
        let pid = sysinfo::get_current_pid().ok();
        let mut sampler = HostSampler {
            disks: Disks::new_with_refreshed_list_specifics(
                DiskRefreshKind::nothing().with_io_usage(),
            ),
            networks: Networks::new_with_refreshed_list(),
            pid,
            last: Instant::now(),
            system: {
                system.refresh_cpu_specifics(CpuRefreshKind::nothing().with_cpu_usage());
                system
            },
        };
        sampler.refresh_process();
        sampler
    }

    fn refresh_process(&mut self) {
        if let Some(pid) = self.pid {
            let kind = ProcessRefreshKind::nothing()
                .with_cpu()
                .with_memory()
                .with_disk_usage();
            self.system
                .refresh_processes_specifics(ProcessesToUpdate::Some(&[pid]), false, kind);
        }
    }

    /// Reads everything; rates are per second since the previous call.
    pub(crate) fn sample(&mut self, out: &mut Vec<Reading>) {
        let now = Instant::now();
        let secs = now.duration_since(self.last).as_secs_f64().max(1e-3);
        self.last = now;
        let system = &mut self.system;
        system.refresh_cpu_specifics(CpuRefreshKind::nothing().with_cpu_usage());
        system.refresh_memory_specifics(MemoryRefreshKind::nothing().with_ram());
        out.push(Reading::host(
            "system/cpu_percent",
            f64::from(system.global_cpu_usage()),
        ));
        let total = system.total_memory();
        let used = system.used_memory();
        out.push(Reading::host("system/memory_used_bytes", used as f64));
        if total > 0 {
            out.push(Reading::host(
                "system/memory_percent",
                100.0 * used as f64 / total as f64,
            ));
        }
        self.disks
            .refresh_specifics(true, DiskRefreshKind::nothing().with_io_usage());
        // A device mounted at several places is listed once per mount point: count it once.
        let mut devices = HashSet::new();
        let (mut read, mut written) = (0u64, 0u64);
        for disk in self.disks.list() {
            if devices.insert(disk.name().to_os_string()) {
                let usage = disk.usage();
                read += usage.read_bytes;
                written += usage.written_bytes;
            }
        }
        out.push(Reading::host(
            "system/disk_read_bytes_per_sec",
            read as f64 / secs,
        ));
        out.push(Reading::host(
            "system/disk_write_bytes_per_sec",
            written as f64 / secs,
        ));
        self.networks.refresh(true);
        let (rx, tx) = self
            .networks
            .list()
            .values()
            .fold((0u64, 0u64), |(rx, tx), n| {
                (rx + n.received(), tx + n.transmitted())
            });
        out.push(Reading::host(
            "system/network_rx_bytes_per_sec",
            rx as f64 / secs,
        ));
        out.push(Reading::host(
            "system/network_tx_bytes_per_sec",
            tx as f64 / secs,
        ));
        self.refresh_process();
        if let Some(process) = self.pid.and_then(|pid| self.system.process(pid)) {
            let disk = process.disk_usage();
            out.extend([
                // 100 is one core fully busy: up to 100 × cores.
                Reading::host("system/process/cpu_percent", f64::from(process.cpu_usage())),
                Reading::host("system/process/rss_bytes", process.memory() as f64),
                Reading::host(
                    "system/process/disk_read_bytes_per_sec",
                    disk.read_bytes as f64 / secs,
                ),
                Reading::host(
                    "system/process/disk_write_bytes_per_sec",
                    disk.written_bytes as f64 / secs,
                ),
            ]);
        }
    }
}
