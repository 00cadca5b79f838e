//! consentcam server library.
