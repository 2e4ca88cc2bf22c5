//! Ctrl-C (SIGINT) and SIGTERM: finish the current page, checkpoint it,
//! and stop with a resume hint (exit 130 or 143). A second signal ends
//! the process at once.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The signal that asked to stop (0: none).
static STOP: AtomicUsize = AtomicUsize::new(0);
/// Set by the first signal: a second one exits at once.
static ARMED: AtomicBool = AtomicBool::new(false);

/// Installs the handlers (idempotent enough: called once per process).
pub(crate) fn install() -> std::io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    for signal in [SIGINT, SIGTERM] {
        // Order matters: the exit is checked before the flag is armed.
        signal_hook::flag::register_conditional_shutdown(signal, 128 + signal, &ARMED)?;
        signal_hook::flag::register_usize(signal, &STOP, signal as usize)?;
        signal_hook::flag::register(signal, &ARMED)?;
    }
    Ok(())
}

/// Whether a stop was asked for, and by which signal.
pub(crate) fn requested() -> Option<Interrupted> {
    match STOP.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(Interrupted {
            signal: signal as i32,
        }),
    }
}

/// The export stopped because of a signal, after its last page was
/// written and checkpointed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Interrupted {
    /// The signal number.
    pub signal: i32,
}

impl Interrupted {
    /// The shell's convention: 128 + the signal (130 for SIGINT, 143 for
    /// SIGTERM).
    pub(crate) fn exit_code(self) -> u8 {
        (128 + self.signal) as u8
    }
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self.signal {
            signal_hook::consts::SIGINT => "SIGINT (Ctrl-C)",
            signal_hook::consts::SIGTERM => "SIGTERM",
            _ => "a signal",
        };
        write!(f, "stopped by {name} after the last complete page")
    }
}

impl std::error::Error for Interrupted {}
