//! `xiaoan default-config`: prints the commented default configuration.

/// Prints the default configuration file.
pub fn run() {
    print!("{}", crate::config::DEFAULT_CONFIG);
}
