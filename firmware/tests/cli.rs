//! `consentcam-kiosk --sim` driven by a script file, the screen written as PNG and as text.

mod common;

use common::TempDir;
use consentcam_hardware::Frame;
use consentcam_kiosk::screen::{Refusal, Screen, draw};

#[test]
fn a_scripted_sim_run_writes_the_last_screen_as_png_and_prints_each_screen() {
    let dir = TempDir::new("cli");
    let script = dir.0.join("script.txt");
    std::fs::write(&script, "# comment\nstaff\ncancel\nlearner\nbogus\n").unwrap();
    let png = dir.0.join("screen.png");
    let data = dir.0.join("data");
    let output = common::kiosk_command(&[
        "--sim",
        "--script",
        script.to_str().unwrap(),
        "--png",
        png.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ])
    .output()
    .unwrap();
    assert!(output.status.success(), "{output:?}");

    let mut expected = Frame::default();
    draw(&Screen::Refused(Refusal::StaffOnly), &mut expected).unwrap();
    let written = Frame::from_png(&std::fs::read(&png).unwrap()).unwrap();
    assert_eq!(written, expected);

    // Idle, "Hello J. Smith", idle again, "Staff only": four frames on stdout.
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout.matches('┌').count(), 4, "{stdout}");
    // An unknown command is reported, not fatal.
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("unknown command \"bogus\""), "{stderr}");
}

#[test]
fn pins_prints_the_table_the_schematic_must_match() {
    let output = common::kiosk_command(&["pins"]).output().unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("reader_rst\t25\t22"), "{stdout}");
    assert!(stdout.contains("led_green\t17\t11"), "{stdout}");
}

#[test]
fn without_hardware_support_the_binary_says_how_to_get_it() {
    if cfg!(feature = "rpi") {
        return;
    }
    let output = common::kiosk_command(&[]).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("--features rpi"), "{stderr}");
}
