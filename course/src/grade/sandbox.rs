//! The sandbox a submission's code runs in: Linux namespaces through bubblewrap, a writable
//! layer (overlayfs) over the shared, read-only build, and cgroup v1 limits where the grader may
//! create cgroups.
//!
//! One sandbox is one process tree started as
//! `sh -c 'join cgroups; exec unshare --user --map-root-user --mount sh -c "mount overlay; exec
//! bwrap ..."'`: the overlay is mounted in a mount namespace of its own (bubblewrap 0.8, the one
//! Debian 12 ships, has no `--overlay`), then bubblewrap builds the sandbox's filesystem and
//! enters its own network (loopback only), PID, IPC and UTS namespaces. Inside:
//! - `/course`: the pristine course, read-only; `/course/exercises`: this submission's fresh
//!   copy of `exercises/` (writable while building, read-only while tests run);
//! - `/course/target`: overlayfs, lower layers read-only (the shared dependency build, and while
//!   tests run the submission's own build), upper layer a fresh folder thrown away afterwards;
//! - `/toolchain` (the Rust sysroot, read-only), `/cargo/registry` (read-only), a private `/tmp`;
//! - the build gets `/usr` and `/proc` (rustc needs both); test runs get only the shared
//!   libraries, no `/proc` and no `/usr/bin` (nothing to `exec`, no `/proc/self/fd`), and the
//!   grader's binary read-only as `/grader/course`, which supervises the tests.
//!
//! Nothing of the teacher's home, of the grader's results or of other submissions is mounted.
//! Every process of a sandbox dies with its first one (`--die-with-parent`, and the PID
//! namespace ends with its init); the grader kills that first process at the time limit.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Where the sandbox's pieces are seen from inside.
pub const COURSE: &str = "/course";
pub const TARGET: &str = "/course/target";
const TOOLCHAIN: &str = "/toolchain";
const GRADER: &str = "/grader/course";

/// The sandbox this machine allows, found once per grading run.
#[derive(Debug, Clone)]
pub struct Sandbox {
    bwrap: PathBuf,
    unshare: PathBuf,
    sh: PathBuf,
    mount: PathBuf,
    /// The Rust sysroot (`rustc --print sysroot`).
    toolchain: PathBuf,
    /// `$CARGO_HOME/registry`: the dependencies' sources, read-only.
    registry: PathBuf,
    /// The grader's own executable.
    grader: PathBuf,
    /// cgroup v1 roots for memory and pids, where this user may create cgroups.
    cgroups: Option<(PathBuf, PathBuf)>,
    /// Memory limit per sandbox, in bytes.
    pub memory: u64,
    pub description: String,
}

/// What one sandbox mounts.
pub struct Mounts<'a> {
    /// The pristine course, seen read-only as `/course`.
    pub course: &'a Path,
    /// The submission's `exercises/` copy, seen as `/course/exercises`.
    pub exercises: &'a Path,
    pub exercises_writable: bool,
    /// Read-only layers of `/course/target`, top first.
    pub lowers: Vec<&'a Path>,
    /// The writable layer (and overlayfs's work folder next to it): thrown away by the caller.
    pub upper: &'a Path,
    /// Building (`/usr`, `/proc`, the toolchain) rather than running tests.
    pub build: bool,
    /// Seen as `/course/solutions/src` while tests run: the reference's files emptied, with
    /// their times kept (cargo's check of the prebuilt programs sees them unchanged; no test
    /// reads the reference's source).
    pub blank_reference: Option<&'a Path>,
}

/// A cgroup made for one sandbox; removed (after its processes are killed) on drop.
pub struct Cgroup {
    dirs: Vec<PathBuf>,
}

impl Cgroup {
    /// The process ids still in the cgroup.
    pub fn pids(&self) -> Vec<String> {
        self.dirs
            .iter()
            .filter_map(|d| fs::read_to_string(d.join("cgroup.procs")).ok())
            .flat_map(|t| t.lines().map(str::to_string).collect::<Vec<_>>())
            .collect()
    }

    /// Kills every process still in the cgroup and waits (briefly) until there are none.
    pub fn kill_all(&self) {
        for _ in 0..50 {
            let pids = self.pids();
            if pids.is_empty() {
                return;
            }
            let _ = Command::new("kill")
                .arg("-KILL")
                .args(&pids)
                .stderr(Stdio::null())
                .status();
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        self.kill_all();
        for dir in &self.dirs {
            let _ = fs::remove_dir(dir);
        }
    }
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .chain(["/usr/bin".into(), "/bin".into(), "/usr/sbin".into()])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

impl Sandbox {
    /// The sandbox this machine allows, or why there is none. `memory_mib` is the memory limit
    /// per sandbox (applied where cgroups are writable).
    pub fn detect(memory_mib: u64) -> Result<Sandbox, String> {
        if !cfg!(target_os = "linux") {
            return Err("not Linux: no namespaces to sandbox in".into());
        }
        let bwrap = which("bwrap").ok_or(
            "bubblewrap (bwrap) is not installed (Debian/Ubuntu: apt-get install bubblewrap)",
        )?;
        let unshare = which("unshare").ok_or("unshare (util-linux) is not installed")?;
        let mount = which("mount").ok_or("mount (util-linux) is not installed")?;
        let sh = which("sh").ok_or("no sh")?;
        // The toolchain is only needed to build; `--sandbox-check` works without one.
        let toolchain = Command::new("rustc")
            .args(["--print", "sysroot"])
            .output()
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
            .unwrap_or_else(|_| PathBuf::from("/nonexistent"));
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
            .ok_or("no CARGO_HOME and no HOME")?;
        let registry = cargo_home.join("registry");
        let grader = std::env::current_exe().map_err(|e| e.to_string())?;
        let version = Command::new(&bwrap)
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        let mut sandbox = Sandbox {
            bwrap,
            unshare,
            sh,
            mount,
            toolchain,
            registry,
            grader,
            cgroups: None,
            memory: memory_mib * 1024 * 1024,
            description: String::new(),
        };
        // A trial: namespaces, an overlay, loopback.
        let trial = tempfile_dir()?;
        let (lower, upper, exercises) = (trial.join("l"), trial.join("u"), trial.join("e"));
        let points = (trial.join("exercises"), trial.join("target"));
        for d in [&lower, &upper, &exercises, &points.0, &points.1] {
            fs::create_dir_all(d).map_err(|e| e.to_string())?;
        }
        let mounts = Mounts {
            course: &trial,
            exercises: &exercises,
            exercises_writable: false,
            lowers: vec![&lower],
            upper: &upper,
            build: false,
            blank_reference: None,
        };
        let out = sandbox
            .command(&mounts, None, GRADER, &["--help"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output();
        let _ = fs::remove_dir_all(&trial);
        match out {
            Ok(o) if o.status.success() => {}
            Ok(o) => {
                return Err(format!(
                    "namespaces are not available here ({}): unprivileged user namespaces may be \
                     restricted (Ubuntu 24.04: run the grader with sudo)",
                    String::from_utf8_lossy(&o.stderr).trim()
                ));
            }
            Err(e) => return Err(format!("cannot start the sandbox: {e}")),
        }
        sandbox.cgroups = cgroup_roots();
        sandbox.description = match &sandbox.cgroups {
            Some(_) => format!(
                "{version}, namespaces (user, mount, network, PID), cgroup v1 memory limit {memory_mib} MiB and 16384 tasks"
            ),
            None => format!(
                "{version}, namespaces (user, mount, network, PID); no memory limit (no writable cgroup v1 memory controller)"
            ),
        };
        Ok(sandbox)
    }

    /// A cgroup for one sandbox (memory and pids limits), if this machine allows it.
    pub fn cgroup(&self) -> Option<Cgroup> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let (memory, pids) = self.cgroups.as_ref()?;
        let name = format!(
            "course-grade-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let dirs = vec![memory.join(&name), pids.join(&name)];
        for dir in &dirs {
            fs::create_dir_all(dir).ok()?;
        }
        let group = Cgroup { dirs };
        fs::write(
            group.dirs[0].join("memory.limit_in_bytes"),
            self.memory.to_string(),
        )
        .ok()?;
        // With swap accounting, swap counts too (else a process swaps instead of stopping).
        let _ = fs::write(
            group.dirs[0].join("memory.memsw.limit_in_bytes"),
            self.memory.to_string(),
        );
        // Tasks, threads included: chapter 4 runs a thread per client (a thousand at once).
        fs::write(group.dirs[1].join("pids.max"), "16384").ok()?;
        Some(group)
    }

    /// The command that runs `program` (a path inside the sandbox) with `args` in a sandbox
    /// mounting `mounts`; more arguments may be appended. Its environment is the sandbox's own.
    pub fn command(
        &self,
        mounts: &Mounts,
        cgroup: Option<&Cgroup>,
        program: &str,
        args: &[&str],
    ) -> Command {
        let work = mounts.upper.with_extension("work");
        let _ = fs::create_dir_all(mounts.upper);
        let _ = fs::create_dir_all(&work);
        let lowers: Vec<String> = mounts
            .lowers
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        let merged = mounts.upper.with_extension("merged");
        let _ = fs::create_dir_all(&merged);
        let options = format!(
            "lowerdir={},upperdir={},workdir={}",
            lowers.join(":"),
            mounts.upper.display(),
            work.display()
        );
        let mut bwrap: Vec<OsString> = vec![self.bwrap.clone().into()];
        let mut arg = |items: &[&dyn AsRef<std::ffi::OsStr>]| {
            bwrap.extend(items.iter().map(|i| i.as_ref().to_os_string()));
        };
        arg(&[&"--unshare-all", &"--die-with-parent", &"--new-session"]);
        arg(&[&"--dev", &"/dev", &"--tmpfs", &"/tmp"]);
        if mounts.build {
            arg(&[&"--ro-bind", &"/usr", &"/usr", &"--proc", &"/proc"]);
            arg(&[&"--ro-bind", &"/etc", &"/etc"]);
            arg(&[&"--symlink", &"usr/bin", &"/bin"]);
        } else {
            // Only what a test binary and the prebuilt programs load: shared libraries.
            arg(&[&"--ro-bind", &"/usr/lib", &"/usr/lib"]);
            if Path::new("/usr/lib64").is_dir() {
                arg(&[&"--ro-bind", &"/usr/lib64", &"/usr/lib64"]);
            }
            arg(&[&"--ro-bind", &self.grader, &GRADER]);
        }
        for link in ["lib", "lib64", "lib32"] {
            if Path::new("/").join(link).exists() {
                arg(&[&"--symlink", &format!("usr/{link}"), &format!("/{link}")]);
            }
        }
        arg(&[&"--ro-bind-try", &self.toolchain, &TOOLCHAIN]);
        arg(&[&"--tmpfs", &"/cargo"]);
        arg(&[&"--ro-bind-try", &self.registry, &"/cargo/registry"]);
        arg(&[&"--ro-bind", &mounts.course, &COURSE]);
        let bind = if mounts.exercises_writable {
            "--bind"
        } else {
            "--ro-bind"
        };
        arg(&[&bind, &mounts.exercises, &"/course/exercises"]);
        if let Some(blank) = mounts.blank_reference {
            arg(&[&"--ro-bind", &blank, &"/course/solutions/src"]);
        }
        arg(&[&"--bind", &merged, &TARGET]);
        arg(&[&"--chdir", &COURSE]);
        arg(&[&"--", &program]);
        bwrap.extend(args.iter().map(OsString::from));

        // Mount the overlay in a mount namespace of its own, then start bubblewrap in it.
        let script = format!(
            "{} -t overlay overlay -o \"$1\" \"$2\" && shift 2 && exec \"$@\"",
            self.mount.display()
        );
        let mut inner: Vec<OsString> = vec![
            self.unshare.clone().into(),
            "--user".into(),
            "--map-root-user".into(),
            "--mount".into(),
            "--".into(),
            self.sh.clone().into(),
            "-c".into(),
            script.into(),
            "sh".into(),
            options.into(),
            merged.into(),
        ];
        inner.extend(bwrap);

        // Join the cgroups first, so that every process of the sandbox is counted.
        let mut command = Command::new(&self.sh);
        let mut join = String::new();
        if let Some(group) = cgroup {
            for dir in &group.dirs {
                join.push_str(&format!(
                    "echo $$ > '{}/cgroup.procs' || exit 125; ",
                    dir.display()
                ));
            }
        }
        command
            .arg("-c")
            .arg(format!("{join}exec \"$@\""))
            .arg("sh")
            .args(inner)
            .env_clear()
            .env("PATH", format!("{TOOLCHAIN}/bin:/usr/bin:/bin"))
            .env("HOME", "/tmp")
            .env("CARGO_HOME", "/cargo")
            .env("CARGO_NET_OFFLINE", "true")
            .env("CARGO_TARGET_DIR", TARGET)
            .env("CARGO", format!("{TOOLCHAIN}/bin/cargo"))
            // One-shot builds: no incremental cache to write, no debug info to link (the
            // shared build is made with the same settings, so it is reused as it is).
            .env("CARGO_INCREMENTAL", "0")
            .env("CARGO_PROFILE_DEV_DEBUG", "0")
            .env("CARGO_PROFILE_TEST_DEBUG", "0")
            .env("COURSE_LANG", "en")
            .env("LANG", "C.UTF-8")
            .stdin(Stdio::null());
        command
    }
}

/// A fresh scratch folder for the trial run.
fn tempfile_dir() -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("course-grade-trial-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    Ok(dir)
}

/// The cgroup v1 memory and pids hierarchies, if this user may create cgroups in both.
fn cgroup_roots() -> Option<(PathBuf, PathBuf)> {
    let memory = PathBuf::from("/sys/fs/cgroup/memory");
    let pids = PathBuf::from("/sys/fs/cgroup/pids");
    let probe = format!("course-grade-probe-{}", std::process::id());
    for root in [&memory, &pids] {
        // Cgroups left by a grader that was killed (its Drop never ran): removed once empty.
        for entry in fs::read_dir(root).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let owner = name
                .strip_prefix("course-grade-")
                .and_then(|rest| rest.split('-').next())
                .map(|pid| Path::new("/proc").join(pid));
            if owner.is_some_and(|proc| !proc.exists()) {
                let _ = fs::remove_dir(entry.path());
            }
        }
        let dir = root.join(&probe);
        fs::create_dir(&dir).ok()?;
        let _ = fs::remove_dir(&dir);
    }
    Some((memory, pids))
}

/// `course grade --sandbox-check`: starts a test sandbox and runs [`probe`] in it (with a
/// 64 MiB memory limit where cgroups are available, which the probe must hit).
pub fn check(_memory_mib: u64) -> std::process::ExitCode {
    let memory_mib = 64;
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let sandbox = match Sandbox::detect(memory_mib) {
        Ok(sandbox) => sandbox,
        Err(why) => {
            println!("no sandbox as uid {uid}: {why}");
            return std::process::ExitCode::from(3);
        }
    };
    println!("sandbox as uid {uid}: {}", sandbox.description);
    let scratch = std::env::temp_dir().join(format!("course-grade-check-{}", std::process::id()));
    let (course, upper) = (scratch.join("course"), scratch.join("upper"));
    let (exercises, lower) = (course.join("exercises"), scratch.join("lower"));
    let reference = course.join("solutions/src");
    for dir in [&exercises, &course.join("target"), &lower, &reference] {
        let _ = fs::create_dir_all(dir);
    }
    let _ = fs::write(
        reference.join("answer.rs"),
        "pub fn answer() -> u32 { 42 }\n",
    );
    let blank = scratch.join("blank");
    let _ = blank_copy(&reference, &blank);
    let mounts = Mounts {
        course: &course,
        exercises: &exercises,
        exercises_writable: false,
        lowers: vec![&lower],
        upper: &upper,
        build: false,
        blank_reference: Some(&blank),
    };
    let group = sandbox.cgroup();
    let mut args = vec!["grade", "--sandbox-probe"];
    if group.is_some() {
        args.push("--sandbox-probe-memory");
    }
    let output = sandbox
        .command(&mounts, group.as_ref(), GRADER, &args)
        .stderr(Stdio::inherit())
        .output();
    drop(group);
    let _ = fs::remove_dir_all(&scratch);
    match output {
        Ok(o) => {
            print!("{}", String::from_utf8_lossy(&o.stdout));
            if o.status.success() {
                println!("sandbox check: every property holds");
                std::process::ExitCode::SUCCESS
            } else {
                println!("sandbox check: FAILED");
                std::process::ExitCode::from(1)
            }
        }
        Err(e) => {
            println!("sandbox check: cannot start the sandbox: {e}");
            std::process::ExitCode::from(1)
        }
    }
}

/// Allocates and touches `mib` MiB (the memory limit's probe): exits 0 if it could.
pub fn allocate(mib: usize) -> std::process::ExitCode {
    let mut blocks = Vec::new();
    for _ in 0..mib {
        blocks.push(vec![1u8; 1024 * 1024]);
    }
    println!("{}", blocks.iter().map(|b| b[0] as usize).sum::<usize>());
    std::process::ExitCode::SUCCESS
}

/// Runs inside a test sandbox: checks what the sandbox promises, one line each. `memory`: a
/// memory limit (64 MiB) is in force, and a child allocating 256 MiB must be stopped.
pub fn probe(memory: bool) -> std::process::ExitCode {
    use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
    let outside: SocketAddr = (Ipv4Addr::new(192, 0, 2, 1), 9).into();
    let checks: Vec<(&str, bool)> = vec![
        ("no /proc", !Path::new("/proc/self").exists()),
        (
            "no /usr/bin (nothing to exec)",
            !Path::new("/usr/bin").exists(),
        ),
        (
            "the course is read-only",
            fs::write(Path::new(COURSE).join("probe"), "x").is_err(),
        ),
        (
            "the exercises are read-only while tests run",
            fs::write(Path::new(COURSE).join("exercises/probe"), "x").is_err(),
        ),
        (
            "the target folder is writable (a throw-away layer)",
            fs::write(Path::new(TARGET).join("probe"), "x").is_ok(),
        ),
        (
            "no home folder of the teacher",
            !Path::new("/root/.cargo").exists() && !Path::new("/home").exists(),
        ),
        (
            "the grader's binary cannot be replaced",
            fs::write(GRADER, "x").is_err(),
        ),
        (
            "the reference's source reads as empty",
            fs::read(Path::new(COURSE).join("solutions/src/answer.rs")).is_ok_and(|b| b.is_empty()),
        ),
        (
            "loopback works",
            TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).is_ok(),
        ),
        (
            "no route out of the loopback",
            TcpStream::connect_timeout(&outside, std::time::Duration::from_secs(2)).is_err()
                && UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))
                    .and_then(|s| s.send_to(b"x", outside))
                    .is_err(),
        ),
        ("a PID namespace of its own", std::process::id() < 100),
    ];
    let mut checks = checks;
    if memory {
        let allocated = Command::new(GRADER)
            .args(["grade", "--sandbox-probe-alloc", "256"])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        checks.push((
            "the memory limit stops a process that allocates past it",
            !allocated,
        ));
    }
    let mut ok = true;
    for (what, holds) in checks {
        println!("  {} {what}", if holds { "ok  " } else { "FAIL" });
        ok &= holds;
    }
    if ok {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(1)
    }
}

/// A copy of the tree `from` in `to` with every file empty and its modification time kept.
pub fn blank_copy(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)?.flatten() {
        let target = to.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            blank_copy(&entry.path(), &target)?;
        } else if kind.is_file() {
            let file = fs::File::create(&target)?;
            file.set_modified(entry.metadata()?.modified()?)?;
        }
    }
    Ok(())
}
