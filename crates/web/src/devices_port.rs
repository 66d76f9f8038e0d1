//! What the web layer needs from the device platforms (GB/T 28181) without depending on them:
//! send a command to a device, learn that channel bindings changed, ask whether a device is
//! registered. The binary plugs the running platform in.

use async_trait::async_trait;
use xiaoan_core::gb::DeviceCommand;

/// Why a device command failed, as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandFailure {
    /// The device is not registered (offline).
    NotRegistered,
    /// The device did not answer in time, or answered with an error status.
    Unreachable(String),
}

/// The running device platform, as the API uses it.
#[async_trait]
pub trait DevicePort: Send + Sync {
    /// Sends `cmd` for `channel_id` to `device_id`; `Ok` once the device accepted it.
    async fn command(
        &self,
        device_id: &str,
        channel_id: &str,
        cmd: DeviceCommand,
    ) -> Result<(), CommandFailure>;
    /// Channel bindings changed in the store: reload them.
    async fn bindings_changed(&self);
    /// Is the device registered now?
    fn registered(&self, device_id: &str) -> bool;
}
