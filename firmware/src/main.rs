//! `consentcam-kiosk`: the kiosk program.
//!
//! ```text
//! consentcam-kiosk [--config FILE]            real hardware (built with --features rpi)
//! consentcam-kiosk --sim [options]            simulated hardware, driven from the terminal
//! consentcam-kiosk pins [--config FILE]       the pin table, for wiring and schematics
//! ```
//!
//! `--sim` options: `--script FILE` (commands from a file instead of stdin), `--png FILE`
//! (write the screen there after every command), `--data-dir DIR`, `--server URL
//! --token-file FILE` (sync with a server; without them the demo roster is used).

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use consentcam_hardware::Button;
use consentcam_kiosk::config::{Config, REFERENCE};
use consentcam_kiosk::sim::{ServerLink, SimKiosk, SimKioskConfig, SimKioskHandle};
use consentcam_kiosk::{demo, screen::Screen};

const USAGE: &str = "usage:
  consentcam-kiosk [--config FILE]
  consentcam-kiosk --sim [--config FILE] [--script FILE] [--png FILE] [--data-dir DIR]
                   [--server URL --token-file FILE]
  consentcam-kiosk pins [--config FILE]

--sim commands (one per line, from stdin or --script):
  tap HEX | staff | other-staff | no-permission | learner | unknown | camera1 | camera2 | ipad1
  ok | cancel | card DIR | remove | wait SECONDS | show | png FILE | quit";

#[derive(Debug, Default)]
struct Args {
    sim: bool,
    pins: bool,
    config: Option<PathBuf>,
    script: Option<PathBuf>,
    png: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    server: Option<String>,
    token_file: Option<PathBuf>,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args> {
    let mut parsed = Args::default();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .with_context(|| format!("{name} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--sim" => parsed.sim = true,
            "pins" => parsed.pins = true,
            "--config" => parsed.config = Some(value("--config")?.into()),
            "--script" => parsed.script = Some(value("--script")?.into()),
            "--png" => parsed.png = Some(value("--png")?.into()),
            "--data-dir" => parsed.data_dir = Some(value("--data-dir")?.into()),
            "--server" => parsed.server = Some(value("--server")?),
            "--token-file" => parsed.token_file = Some(value("--token-file")?.into()),
            "-h" | "--help" => bail!("{USAGE}"),
            other => bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    Ok(parsed)
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = parse_args(std::env::args().skip(1))?;
    let config = match &args.config {
        Some(path) => Config::load(path).with_context(|| format!("loading {}", path.display()))?,
        None => Config::parse(REFERENCE, Path::new("built-in kiosk.toml"))
            .context("the built-in configuration")?,
    };
    if args.pins {
        print_pins(&config);
        return Ok(());
    }
    if args.sim {
        return run_sim(&args, &config);
    }
    run_hardware(&config)
}

fn print_pins(config: &Config) {
    println!("function\tgpio\theader_pin");
    for (name, gpio) in config.pins.table() {
        let pin = consentcam_hardware::pins::header_pin(gpio).unwrap_or(0);
        println!("{name}\t{gpio}\t{pin}");
    }
    println!(
        "reader_spi\t{}\tCE0 24, MOSI 19, MISO 21, SCLK 23",
        config.buses.reader_spi
    );
    println!(
        "display_i2c\t{} @0x{:02X}\tSDA 3, SCL 5",
        config.buses.display_i2c, config.buses.display_address
    );
}

fn read_token(path: &Path) -> Result<String> {
    let token = std::fs::read_to_string(path)
        .with_context(|| format!("reading the kiosk token from {}", path.display()))?;
    Ok(token.trim().to_owned())
}

fn run_sim(args: &Args, config: &Config) -> Result<()> {
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("consentcam-kiosk-sim"));
    let mut sim = SimKioskConfig::new(data_dir.clone());
    sim.settings = config.settings();
    sim.reader_name = config.kiosk.reader_name.clone();
    if let Some(url) = &args.server {
        let token_file = args
            .token_file
            .as_deref()
            .unwrap_or(&config.kiosk.token_file);
        sim.server = Some(ServerLink {
            url: url.clone(),
            token: read_token(token_file)?,
        });
    }
    let kiosk = SimKiosk::start(sim)
        .with_context(|| format!("starting the simulated kiosk in {}", data_dir.display()))?;
    let input: Box<dyn BufRead> = match &args.script {
        Some(path) => Box::new(std::io::BufReader::new(
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?,
        )),
        None => {
            eprintln!("{USAGE}");
            Box::new(std::io::stdin().lock())
        }
    };
    let mut last: Option<Screen> = None;
    show(&kiosk, args.png.as_deref(), &mut last)?;
    for line in input.lines() {
        let line = line.context("reading commands")?;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match command(&kiosk, line) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => eprintln!("{line}: {e:#}"),
        }
        show(&kiosk, args.png.as_deref(), &mut last)?;
    }
    kiosk.shutdown();
    Ok(())
}

/// Carries out one `--sim` command; `Ok(false)` means quit.
fn command(kiosk: &SimKioskHandle, line: &str) -> Result<bool> {
    let mut words = line.split_whitespace();
    let verb = words.next().unwrap_or("");
    let rest = words.collect::<Vec<_>>().join(" ");
    let named = |name: &str| match name {
        "staff" => Some(demo::STAFF),
        "other-staff" => Some(demo::OTHER_STAFF),
        "no-permission" => Some(demo::NO_PERMISSION),
        "learner" => Some(demo::LEARNER),
        "unknown" => Some(demo::UNKNOWN),
        "camera1" => Some(demo::CAMERA_1),
        "camera2" => Some(demo::CAMERA_2),
        "ipad1" => Some(demo::IPAD_1),
        _ => None,
    };
    match verb {
        "tap" => kiosk.tap_hex(named(&rest).unwrap_or(&rest))?,
        v if named(v).is_some() => kiosk.tap_hex(named(v).unwrap_or_default())?,
        "ok" => kiosk.press(Button::Ok)?,
        "cancel" => kiosk.press(Button::Cancel)?,
        "card" => kiosk.insert_card(Path::new(&rest))?,
        "remove" => kiosk.remove_card()?,
        "wait" => {
            let secs: f64 = rest.parse().context("wait SECONDS")?;
            std::thread::sleep(Duration::from_secs_f64(secs.clamp(0.0, 3600.0)));
        }
        "show" => print!("{}", kiosk.frame().to_text()),
        "png" => {
            std::fs::write(&rest, kiosk.screen_png()).with_context(|| format!("writing {rest}"))?
        }
        "quit" | "exit" => return Ok(false),
        other => bail!("unknown command {other:?}"),
    }
    Ok(true)
}

fn show(kiosk: &SimKioskHandle, png: Option<&Path>, last: &mut Option<Screen>) -> Result<()> {
    let screen = kiosk.screen()?;
    if screen != *last {
        print!("{}", kiosk.frame().to_text());
        if let Some(path) = png {
            std::fs::write(path, kiosk.screen_png())
                .with_context(|| format!("writing {}", path.display()))?;
        }
        *last = screen;
    }
    Ok(())
}

#[cfg(not(feature = "rpi"))]
fn run_hardware(_config: &Config) -> Result<()> {
    bail!("this build has no hardware support: rebuild with `--features rpi`, or run with --sim")
}

#[cfg(feature = "rpi")]
fn run_hardware(config: &Config) -> Result<()> {
    use std::sync::{Arc, Mutex};

    use consentcam_hardware::rpi;
    use consentcam_kiosk::client::HttpApi;
    use consentcam_kiosk::journal::Journal;
    use consentcam_kiosk::kiosk::{Hardware, Kiosk};
    use consentcam_kiosk::link::{LinkHandle, load_roster};
    use consentcam_kiosk::machine::State;
    use consentcam_kiosk::roster::LocalRoster;

    let gpio = rpi::Gpio::new().context("opening GPIO (is this a Raspberry Pi?)")?;
    let _rst = rpi::hold_reader_out_of_reset(&gpio, &config.pins)
        .context("driving the reader's RST pin")?;
    let reader = rpi::open_reader(&config.buses.reader_spi).context("starting the badge reader")?;
    let display = rpi::Oled::open(&config.buses.display_i2c, config.buses.display_address)
        .context("starting the display")?;
    let indicators = rpi::GpioIndicators::open(&gpio, &config.pins).context("LEDs and buzzer")?;
    let buttons = rpi::GpioButtons::open(&gpio, &config.pins).context("buttons")?;
    let lock = rpi::GpioLock::open(&gpio, &config.pins).context("cabinet lock")?;

    let data_dir = &config.kiosk.data_dir;
    let token = read_token(&config.kiosk.token_file)?;
    let key = consentcam_tagkey::KioskKey::from_token(&token);
    let journal = Journal::open(data_dir, &config.kiosk.reader_name)
        .with_context(|| format!("opening the journal in {}", data_dir.display()))?;
    let journal = Arc::new(Mutex::new(journal));
    let cache = data_dir.join("roster.json");
    let roster = load_roster(&cache)
        .map(|r| LocalRoster::from_roster(&r, &key))
        .unwrap_or_else(|| LocalRoster::empty(&key));
    let api = HttpApi::new(&config.kiosk.server_url, &token, Duration::from_secs(3));
    let link = LinkHandle::spawn(
        journal.clone(),
        Box::new(api),
        Some(cache),
        Duration::from_secs(config.kiosk.sync_seconds.max(1)),
    );
    let hw = Hardware {
        reader,
        display,
        indicators,
        buttons,
        lock,
    };
    let mut kiosk = Kiosk::new(
        hw,
        State::new(roster, config.settings()),
        journal,
        Some(link),
    );
    if let Some(path) = &config.import.progress_file {
        tracing::info!(path = %path.display(), "following card imports");
        kiosk =
            kiosk.with_card_progress(consentcam_kiosk::card::ProgressFollower::new(path.clone()));
    }
    tracing::info!(reader = %config.kiosk.reader_name, "kiosk running");
    loop {
        kiosk.poll(consentcam_kiosk::clock::now());
        // A reader poll already takes ~25 ms (the chip's timer); this keeps the loop
        // from spinning when the reader returns faster.
        std::thread::sleep(Duration::from_millis(20));
    }
}
