//! The two push buttons.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// The kiosk's two buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Button {
    /// Confirm (e.g. return the device you hold).
    Ok,
    /// Cancel what is on screen and go back to idle.
    Cancel,
}

/// Debounced button presses, oldest first.
pub trait Buttons {
    /// The next press since the last call, if any. Never blocks.
    fn poll(&mut self) -> Option<Button>;
}

/// Buttons pressed from code (tests, terminal, demo page). Clones share the queue.
#[derive(Debug, Clone, Default)]
pub struct SimButtons {
    queue: Arc<Mutex<VecDeque<Button>>>,
}

impl SimButtons {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn press(&self, button: Button) {
        self.queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(button);
    }
}

impl Buttons for SimButtons {
    fn poll(&mut self) -> Option<Button> {
        self.queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sim_buttons_report_each_press_once_in_order() {
        let mut buttons = SimButtons::new();
        buttons.clone().press(Button::Ok);
        buttons.press(Button::Cancel);
        assert_eq!(buttons.poll(), Some(Button::Ok));
        assert_eq!(buttons.poll(), Some(Button::Cancel));
        assert_eq!(buttons.poll(), None);
    }
}
