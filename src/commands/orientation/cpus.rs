//! Keep the command's two threads on two different CPUs.
//!
//! Left to the scheduler, a thread that wakes the other was often seen to have it placed on
//! its own CPU (where the waker's warm cache is) while the second CPU stayed idle, until
//! load balancing moved one of them a few milliseconds later. The command's threads hand
//! blocks to each other all the time; on the 2-CPU machine of `docs/accuracy.md` §4.5 this
//! cost 2–3 ms of the command's 19–26 ms (medians). Pinned, each thread has its CPU and a
//! wake-up wakes that CPU.
//!
//! The filter thread stays on the CPU it is running on; the input thread gets another CPU
//! the process may use, on another core where the topology says which CPUs are hardware
//! threads of one core. With fewer than two CPUs allowed (`taskset -c 3 twistcoach …`), or
//! where setting affinities fails or is not supported (not Linux), nothing is pinned. The
//! filter thread's affinity is restored when the command ends.

// Elsewhere than on Linux `plan` is `None`: the choice of CPUs is then only tested.
#![cfg_attr(not(target_os = "linux"), allow(dead_code))]

/// Where the two threads go, and what to restore.
#[derive(Debug)]
pub(super) struct Placement {
    #[cfg(target_os = "linux")]
    original: rustix::thread::CpuSet,
    filter_cpu: usize,
    input_cpu: usize,
}

impl Placement {
    /// Two CPUs for the two threads, if the process may use two (called from the filter
    /// thread, before the input thread starts).
    #[cfg(target_os = "linux")]
    pub(super) fn plan() -> Option<Self> {
        use rustix::thread::{CpuSet, sched_getaffinity, sched_getcpu};
        let original = sched_getaffinity(None).ok()?;
        let allowed: Vec<usize> = (0..CpuSet::MAX_CPU).filter(|&c| original.is_set(c)).collect();
        let here = sched_getcpu();
        // With two CPUs allowed the choice is made; else ask sysfs (about 0.1 ms) which
        // CPUs share this one's core.
        let siblings = if allowed.len() > 2 {
            let list = format!("/sys/devices/system/cpu/cpu{here}/topology/thread_siblings_list");
            let list = std::fs::read_to_string(list).ok();
            list.and_then(|l| parse_cpu_list(&l)).unwrap_or_default()
        } else {
            Vec::new()
        };
        let (filter_cpu, input_cpu) = pick_cpus(here, &allowed, &siblings)?;
        Some(Self {
            original,
            filter_cpu,
            input_cpu,
        })
    }

    #[cfg(not(target_os = "linux"))]
    pub(super) fn plan() -> Option<Self> {
        None
    }

    /// Pin the calling thread (the filter thread) to its CPU.
    pub(super) fn pin_filter_thread(&self) {
        pin_current_thread(self.filter_cpu);
    }

    /// Pin the calling thread (the input thread) to its CPU.
    pub(super) fn pin_input_thread(&self) {
        pin_current_thread(self.input_cpu);
    }

    /// Give the calling thread (the filter thread) back the CPUs it had.
    pub(super) fn restore_filter_thread(&self) {
        #[cfg(target_os = "linux")]
        let _ = rustix::thread::sched_setaffinity(None, &self.original);
    }
}

#[cfg(target_os = "linux")]
fn pin_current_thread(cpu: usize) {
    let mut only = rustix::thread::CpuSet::new();
    only.set(cpu);
    // A failure only means the scheduler places the thread, as without pinning.
    let _ = rustix::thread::sched_setaffinity(None, &only);
}

#[cfg(not(target_os = "linux"))]
fn pin_current_thread(_cpu: usize) {}

/// The filter thread's CPU (`here`, if allowed; else the first allowed) and the input
/// thread's: the next allowed CPU after it (wrapping) that is not one of `here`'s
/// hardware-thread siblings, or failing that any other allowed CPU. `None` with fewer
/// than two allowed CPUs.
fn pick_cpus(here: usize, allowed: &[usize], siblings_of_here: &[usize]) -> Option<(usize, usize)> {
    if allowed.len() < 2 {
        return None;
    }
    let (filter_cpu, siblings_of_here) = if allowed.contains(&here) {
        (here, siblings_of_here)
    } else {
        (allowed[0], &[][..])
    };
    let after = allowed.iter().position(|&c| c == filter_cpu)? + 1;
    let others = || allowed[after..].iter().chain(&allowed[..after - 1]).copied();
    let input_cpu = others()
        .find(|c| !siblings_of_here.contains(c))
        .or_else(|| others().next())?;
    Some((filter_cpu, input_cpu))
}

/// A Linux CPU list (`0-3,8,10-11`, as in sysfs); `None` if it is not one.
fn parse_cpu_list(list: &str) -> Option<Vec<usize>> {
    let mut cpus = Vec::new();
    for part in list.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (a.parse::<usize>().ok()?, b.parse::<usize>().ok()?);
                if b < a || b - a > 1 << 16 {
                    return None;
                }
                cpus.extend(a..=b);
            }
            None => cpus.push(part.parse().ok()?),
        }
    }
    Some(cpus)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sysfs_cpu_lists() {
        assert_eq!(parse_cpu_list("0-1\n"), Some(vec![0, 1]));
        assert_eq!(parse_cpu_list("3"), Some(vec![3]));
        assert_eq!(parse_cpu_list("0,64"), Some(vec![0, 64]));
        assert_eq!(parse_cpu_list("0-2,8,10-11"), Some(vec![0, 1, 2, 8, 10, 11]));
        assert_eq!(parse_cpu_list(""), Some(vec![]));
        assert_eq!(parse_cpu_list("2-1"), None);
        assert_eq!(parse_cpu_list("x"), None);
        assert_eq!(parse_cpu_list("1-"), None);
    }

    #[test]
    fn the_input_thread_gets_another_cpu() {
        // Two CPUs, no hardware threads (this machine): the other one, from either side.
        assert_eq!(pick_cpus(0, &[0, 1], &[0]), Some((0, 1)));
        assert_eq!(pick_cpus(1, &[0, 1], &[1]), Some((1, 0)));
        // The next allowed CPU after ours, wrapping round.
        assert_eq!(pick_cpus(5, &[1, 3, 5, 7], &[]), Some((5, 7)));
        assert_eq!(pick_cpus(7, &[1, 3, 5, 7], &[]), Some((7, 1)));
    }

    #[test]
    fn hardware_thread_siblings_are_avoided_when_another_core_is_allowed() {
        // cpu0 and cpu1 are one core, as are cpu2 and cpu3.
        assert_eq!(pick_cpus(0, &[0, 1, 2, 3], &[0, 1]), Some((0, 2)));
        // cpu0 and cpu4 are one core (siblings numbered half the machine apart).
        assert_eq!(pick_cpus(0, &[0, 4], &[0, 4]), Some((0, 4)));
        assert_eq!(pick_cpus(0, &[0, 1, 4, 5], &[0, 4]), Some((0, 1)));
    }

    #[test]
    fn nothing_is_pinned_with_one_cpu_allowed() {
        assert_eq!(pick_cpus(3, &[3], &[3]), None);
        assert_eq!(pick_cpus(0, &[], &[]), None);
    }

    #[test]
    fn a_cpu_outside_the_allowed_set_is_not_used() {
        // The thread runs where it may no longer run (its affinity just changed).
        assert_eq!(pick_cpus(9, &[2, 6], &[9]), Some((2, 6)));
        assert_eq!(pick_cpus(9, &[2, 6], &[9, 6]), Some((2, 6)));
    }
}
